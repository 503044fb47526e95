/**
 * Activation (gradient) checkpointing beside its peer, the same step without it: the backend's measured peak bytes
 * of one GPT-2-architecture training step, above what was in use before the step (weights, and the optimizer state
 * once made), with `model.gradientCheckpointingEnable()` and without — for full fine-tuning (AdamW) and for SIFT.
 *
 *   node --import tsx benchmarks/suites/gradient-checkpointing.ts [--layers 6] [--embd 384] [--heads 6] [--vocab 8192] [--seq 256] [--batch 4]
 *
 * Random weights and token ids (bytes do not depend on values), dropout at GPT-2's 0.1 (the checkpointed run
 * replays its masks). Each configuration runs two steps in its own process (a fresh heap; SIFT selects and AdamW
 * makes its moments on the first) and the second is measured. Writes benchmarks/results/gradient-checkpointing.{json,md}
 * with the bytes only — deterministic, where step times on a shared machine are not (they are printed, not kept).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import '@siftjs/backend-cpu';
import { GPT2LMHeadModel, gpt2Config } from '@siftjs/models';
import { type FineTuner, fullFineTune, SIFT } from '@siftjs/sift-optimizer';
import { getBackend, manualSeed, memoryStats, resetPeakBytes, tensor } from '@siftjs/tensor';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const dims = { n_layer: opt('layers', 6), n_embd: opt('embd', 384), n_head: opt('heads', 6), vocab_size: opt('vocab', 8192) };
const seq = opt('seq', 256);
const batch = opt('batch', 4);
const density = 0.01;
const targets = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'];
const log = (s: string) => process.stdout.write(`${s}\n`);

interface Row {
  method: string;
  checkpointing: boolean;
  /** Bytes in use before the measured step: weights, and the optimizer's state. */
  before: number;
  /** The backend's peak during the measured step, above `before`. */
  peakAboveBefore: number;
  seconds: number;
}

const METHODS: Record<string, { label: string; build: (m: GPT2LMHeadModel) => FineTuner }> = {
  full: { label: 'full fine-tuning (AdamW)', build: (m) => fullFineTune(m, { lr: 1e-4 }) },
  sift: { label: `SIFT, density ${density} on every block projection`, build: (m) => new SIFT(m, { density, targets, lr: 1e-4 }) },
};

function measure(method: string, checkpointing: boolean): Row {
  manualSeed(0);
  const model = new GPT2LMHeadModel(gpt2Config({ ...dims, n_positions: Math.max(1024, seq), resid_pdrop: 0.1, embd_pdrop: 0.1, attn_pdrop: 0.1 }, 'benchmark'));
  if (checkpointing) model.gradientCheckpointingEnable();
  const tuner = METHODS[method].build(model);
  let lcg = 12345;
  let row: Row | null = null;
  for (let step = 0; step < 2; step++) {
    const ids = tensor(
      Int32Array.from({ length: batch * seq }, () => (lcg = (Math.imul(lcg, 1664525) + 1013904223) >>> 0) % dims.vocab_size),
      { shape: [batch, seq], dtype: 'int32' },
    );
    const before = memoryStats().bytesInUse;
    resetPeakBytes();
    const t0 = performance.now();
    const { logits, loss } = model.forward(ids, { labels: ids });
    logits.dispose();
    loss!.backward();
    loss!.dispose();
    tuner.step();
    tuner.zeroGrad();
    ids.dispose();
    row = { method, checkpointing, before, peakAboveBefore: memoryStats().peakBytes - before, seconds: (performance.now() - t0) / 1000 };
  }
  tuner.dispose();
  model.dispose();
  return row as Row;
}

const only = args.includes('--method') ? args[args.indexOf('--method') + 1] : '';
if (only) {
  process.stdout.write(`ROW ${JSON.stringify(measure(only, args.includes('--checkpointing')))}\n`);
  process.exit(0);
}

// Each configuration in its own process: a fresh heap, so one run's freed blocks cannot shape another's peak.
const child = (method: string, checkpointing: boolean): Row => {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args, '--method', method, ...(checkpointing ? ['--checkpointing'] : [])], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('ROW '));
  if (!line) throw new Error(`gradient-checkpointing: the ${method} run failed:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line.slice(4)) as Row;
};

log(`GPT-2 architecture ${JSON.stringify(dims)}, batch ${batch} × ${seq} tokens, dropout 0.1`);
const rows: Row[] = [];
for (const method of Object.keys(METHODS)) {
  for (const checkpointing of [false, true]) {
    rows.push(child(method, checkpointing));
    log(`  ${JSON.stringify(rows.at(-1))}   (step seconds: this machine, now — not kept)`);
  }
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const date = new Date().toISOString().slice(0, 10);
const backend = getBackend().info();
const lines = [
  `# Gradient checkpointing: peak bytes of a GPT-2-architecture training step (${date})`,
  '',
  `Model: GPT-2 architecture ${JSON.stringify(dims)}, random weights, dropout 0.1; one training step on ${batch} × ${seq} tokens (causal LM loss),`,
  `the second of two (SIFT selects and AdamW makes its moments on the first). Backend: ${backend.name}.`,
  '"peak above" = the backend\'s measured peak during the step minus the bytes in use just before it (weights, optimizer',
  'state): activations, gradients and the step\'s temporaries; "peak" = the backend\'s peak itself. Bytes are deterministic;',
  'step times are left out (a shared machine).',
  `Regenerate: \`node --import tsx benchmarks/suites/gradient-checkpointing.ts${args.length ? ` ${args.join(' ')}` : ''}\`.`,
  '',
  '| method | gradient checkpointing | in use before the step | peak above | ÷ without | peak (bytes) |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => {
    const peer = rows.find((p) => p.method === r.method && !p.checkpointing) as Row;
    return `| ${METHODS[r.method].label} | ${r.checkpointing ? 'on' : 'off'} | ${mib(r.before)} | ${mib(r.peakAboveBefore)} | ${(r.peakAboveBefore / peer.peakAboveBefore).toFixed(3)} | ${(r.before + r.peakAboveBefore).toLocaleString('en-US')} |`;
  }),
  '',
];
const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const json = { date, host: { cpus: os.cpus().length, node: process.version }, backend: backend.name, model: dims, batch, seq, rows: rows.map(({ seconds: _s, ...r }) => r) };
for (const [ext, text] of [['json', `${JSON.stringify(json, null, 2)}\n`], ['md', lines.join('\n')]] as const) {
  writeFileSync(`${dir}gradient-checkpointing.${ext}.tmp`, text);
  renameSync(`${dir}gradient-checkpointing.${ext}.tmp`, `${dir}gradient-checkpointing.${ext}`);
}
log(lines.join('\n'));
