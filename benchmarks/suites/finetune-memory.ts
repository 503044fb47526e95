/**
 * Memory of one GPT-2-architecture training step under SIFT, full fine-tuning and LoRA (equal trainable
 * parameters), on the CPU backend: the bytes each method keeps (gradients + optimizer state, accounted by the
 * method), the backend's measured peak above the model's own weights during a step, the step time, and the size
 * of what a fine-tune saves (sparse delta, LoRA adapter, full checkpoint).
 *
 *   node --import tsx benchmarks/suites/finetune-memory.ts [--size small|tiny] [--seq 128] [--batch 4]
 *
 * Writes benchmarks/results/finetune-memory-<size>.{json,md}. The model is randomly initialised: memory and
 * file sizes do not depend on the weights' values.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@siftjs/backend-cpu';
import { GPT2LMHeadModel, gpt2Config, saveSafetensors } from '@siftjs/models';
import { extractDelta, type FineTuner, fullFineTune, lora, loraRankForBudget, saveDelta, SIFT } from '@siftjs/sift-optimizer';
import { getBackend, manualSeed, memoryStats, resetPeakBytes, type Tensor, tensor } from '@siftjs/tensor';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const size = opt('size', 'small');
const seq = Number(opt('seq', '128'));
const batch = Number(opt('batch', '4'));
const density = Number(opt('density', '0.01'));
const dims = size === 'small' ? { n_layer: 12, n_embd: 768, n_head: 12, vocab_size: 50257 } : { n_layer: 2, n_embd: 128, n_head: 4, vocab_size: 4096 };
const config = gpt2Config({ ...dims, n_positions: 1024, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, 'benchmark');
// The paper's choice for decoders, on GPT-2's names: every projection of every block.
const targets = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'];
const log = (s: string) => process.stdout.write(`${s}\n`);

interface Row {
  method: string;
  trainable: number;
  gradients: number;
  optimizerState: number;
  kept: number;
  peakAboveWeights: number;
  stepSeconds: number;
  savedBytes: number;
  saved: string;
}

let lcg = 12345;
function batchOf(): Tensor {
  const ids = Int32Array.from({ length: batch * seq }, () => {
    lcg = (Math.imul(lcg, 1664525) + 1013904223) >>> 0;
    return lcg % config.vocab_size;
  });
  return tensor(ids, { shape: [batch, seq], dtype: 'int32' });
}

/** Two steps (SIFT selects on the first); the second is measured. */
async function measure(method: string, build: (m: GPT2LMHeadModel) => FineTuner, save: (m: GPT2LMHeadModel, t: FineTuner, dir: string) => Promise<string>): Promise<Row> {
  manualSeed(0);
  const model = new GPT2LMHeadModel(config);
  const weights = memoryStats().bytesInUse;
  const tuner = build(model);
  let seconds = 0;
  for (let step = 0; step < 2; step++) {
    const ids = batchOf();
    if (step === 1) resetPeakBytes();
    const t0 = performance.now();
    const { logits, loss } = model.forward(ids, { labels: ids });
    logits.dispose();
    loss!.backward();
    loss!.dispose();
    tuner.step();
    tuner.zeroGrad();
    seconds = (performance.now() - t0) / 1000;
    ids.dispose();
  }
  const peak = memoryStats().peakBytes - weights;
  const report = tuner.memoryReport();
  const dir = mkdtempSync(join(os.tmpdir(), 'siftjs-mem-'));
  const file = await save(model, tuner, dir);
  const savedBytes = statSync(file).size;
  rmSync(dir, { recursive: true, force: true });
  const row: Row = {
    method,
    trainable: tuner.trainableCount(),
    gradients: report.gradients,
    optimizerState: report.optimizerState,
    kept: report.total,
    peakAboveWeights: peak,
    stepSeconds: seconds,
    savedBytes,
    saved: file.split('/').pop() as string,
  };
  tuner.dispose();
  model.dispose();
  return row;
}

// Each method runs in its own process: a fresh heap, so one method's freed blocks cannot shape another's peak.
const only = opt('method', '');
const methods: Record<string, () => Promise<Row>> = {
  sift: () =>
    measure(
      'SIFT',
      (m) => new SIFT(m, { density, targets, lr: 1e-4 }),
      async (_m, t, dir) => {
        const path = join(dir, 'delta.safetensors');
        saveDelta(path, await extractDelta(t as SIFT));
        return path;
      },
    ),
  full: () =>
    measure(
      'full fine-tuning',
      (m) => fullFineTune(m, { lr: 1e-4 }),
      async (m, _t, dir) => {
        m.savePretrained(dir); // as Hugging Face saves it: the tied LM head once
        return join(dir, 'model.safetensors');
      },
    ),
  lora: () =>
    measure(
      `LoRA rank ${loraRank} (equal trainable params)`,
      (m) => lora(m, { rank: loraRank, targets, lr: 1e-4 }),
      async (m, _t, dir) => {
        const path = join(dir, 'adapter_model.safetensors');
        const adapters = Object.fromEntries(Object.entries(m.stateDict()).filter(([n]) => n.includes('.lora_')));
        saveSafetensors(path, adapters);
        return path;
      },
    ),
};
const loraRankArg = Number(opt('lora-rank', '0'));
let loraRank = loraRankArg;
if (only) {
  process.stdout.write(`ROW ${JSON.stringify(await methods[only]())}\n`);
  process.exit(0);
}

const child = (method: string, extra: string[] = []): Row => {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args, '--method', method, ...extra], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('ROW '));
  if (!line) throw new Error(`finetune-memory: the ${method} run failed:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line.slice(4)) as Row;
};
log(`GPT-2 ${size}: ${JSON.stringify(dims)}, batch ${batch} × ${seq} tokens, SIFT density ${density} on ${targets.join(', ')}`);
const rows: Row[] = [child('sift')];
log(`  ${JSON.stringify(rows[0])}`);
// LoRA's rank: closest to SIFT's trainable count on the same layers.
manualSeed(0);
const probe = new GPT2LMHeadModel(config);
loraRank = loraRankForBudget(probe, targets, rows[0].trainable);
probe.dispose();
for (const [m, extra] of [['full', []], ['lora', ['--lora-rank', String(loraRank)]]] as const) {
  rows.push(child(m, [...extra]));
  log(`  ${JSON.stringify(rows.at(-1))}`);
}
const rank = loraRank;

const mib = (b: number) => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const full = rows[1];
const md = [
  `# Fine-tuning memory, GPT-2 ${size} architecture (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Host: ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version}; backend ${JSON.stringify(getBackend().info())}.`,
  `Model: ${JSON.stringify(dims)}; one training step on ${batch} × ${seq} tokens (causal LM loss), AdamW.`,
  `SIFT: density ${density} on ${targets.join(', ')} (first-batch selection). LoRA rank ${rank} on the same layers (closest to SIFT's trainable count).`,
  '"kept" = gradients + optimizer state + SIFT\'s values/indices, as the method accounts them; "peak" = the backend\'s',
  'measured peak bytes during the second step, above the model weights (activations included). Step times were taken on a',
  'shared, loaded machine and are not comparable between rows; the memory figures are exact.',
  `Regenerate: \`node --import tsx benchmarks/suites/finetune-memory.ts --size ${size} --seq ${seq} --batch ${batch}\`.`,
  '',
  '| method | trainable params | gradients | optimizer state | kept | kept ÷ full | peak above weights | peak ÷ full | step (s) | saved file | size |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.method} | ${r.trainable.toLocaleString('en-US')} | ${mib(r.gradients)} | ${mib(r.optimizerState)} | ${mib(r.kept)} | ${(r.kept / full.kept).toFixed(3)} | ${mib(r.peakAboveWeights)} | ${(r.peakAboveWeights / full.peakAboveWeights).toFixed(3)} | ${r.stepSeconds.toFixed(2)} | ${r.saved} | ${mib(r.savedBytes)} |`,
  ),
  '',
].join('\n');
const outDir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
for (const [ext, text] of [['json', JSON.stringify({ size, dims, seq, batch, density, targets, loraRank: rank, rows }, null, 2)], ['md', md]] as const) {
  const path = join(outDir, `finetune-memory-${size}.${ext}`);
  writeFileSync(`${path}.tmp`, `${text}\n`);
  renameSync(`${path}.tmp`, path);
}
log(md);
