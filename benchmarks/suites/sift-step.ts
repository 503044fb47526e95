/**
 * A SIFT fine-tuning step beside its peers, in one run: siftjs SIFT (density 1% on every block projection, weights and
 * biases), siftjs LoRA at equal trainable parameters and full fine-tuning on the same backend, and a PyTorch SIFT
 * written from the paper's Figure 5 (benchmarks/peers/torch_sift.py) on 1 and 2 threads. Tokens per second of one
 * step (forward, causal-LM loss, backward, optimizer step) after the selection step; each in its own process.
 *
 *   node --import tsx benchmarks/suites/sift-step.ts [--size small|tiny] [--steps 4]      (all, writes results)
 *   node --import tsx benchmarks/suites/sift-step.ts --method sift|lora|full [--size …]    (one, prints JSON)
 *
 * small is GPT-2 small (12 × 768, vocabulary 50,257, 124M parameters) on 4 × 128 tokens. Writes
 * benchmarks/results/sift-step-<size>.{json,md}.
 */
import { spawnSync } from 'node:child_process';
import { execSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import '@siftjs/backend-cpu';
import { GPT2LMHeadModel, gpt2Config } from '@siftjs/models';
import { createFineTuner, loraRankForBudget, type MethodName, SIFT } from '@siftjs/sift-optimizer';
import { getBackend, manualSeed, setBackend, tensor } from '@siftjs/tensor';
import { type Gpt2Config, tokenIds } from './gpt2.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const size = opt('size', 'small');
const steps = Number(opt('steps', '4'));
const density = 0.01;
const configs: Record<string, Gpt2Config> = {
  small: { vocab: 50257, n_layer: 12, n_embd: 768, n_head: 12, seq: 128, batch: 4 },
  tiny: { vocab: 4096, n_layer: 4, n_embd: 256, n_head: 4, seq: 128, batch: 4 },
};
const c = configs[size];
if (!c) throw new Error(`sift-step: --size small|tiny, got ${size}`);
const targets = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'];
const log = (s: string) => process.stdout.write(`${s}\n`);

interface Measured {
  tokensPerSecond: number;
  ms: number;
  loss: number;
  trainable: number;
}

async function one(method: MethodName): Promise<Measured> {
  manualSeed(0);
  const model = new GPT2LMHeadModel(
    gpt2Config({ vocab_size: c.vocab, n_positions: c.seq, n_embd: c.n_embd, n_layer: c.n_layer, n_head: c.n_head, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, 'benchmark'),
  );
  let tuner;
  if (method === 'lora') {
    // LoRA at SIFT's trainable count: measured on a SIFT over the same targets, then freed.
    const probe = new SIFT(model, { density, targets });
    const budget = probe.trainableCount();
    probe.dispose();
    const rank = loraRankForBudget(model, targets, budget);
    tuner = createFineTuner(model, { method, lr: 1e-4, loraRank: rank, loraAlpha: 2 * rank, targets });
  } else tuner = createFineTuner(model, { method, lr: 1e-4, density, targets });
  const times: number[] = [];
  let loss = Number.NaN;
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    const ids = tensor(tokenIds(c, s % 8), { shape: [c.batch, c.seq], dtype: 'int32' });
    const out = model.forward(ids, { labels: ids });
    out.loss!.backward();
    tuner.step();
    tuner.zeroGrad();
    loss = await out.loss!.item();
    for (const t of [ids, out.logits, out.loss!]) t.dispose();
    if (s > 0) times.push(performance.now() - t0); // the first step also selects SIFT's components
  }
  times.sort((a, b) => a - b);
  const ms = times[times.length >> 1];
  return { tokensPerSecond: (c.batch * c.seq) / (ms / 1000), ms, loss, trainable: tuner.trainableCount() };
}

function child(cmd: string, argv: string[], env: Record<string, string> = {}): Measured | { missing: string } {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  if (r.status !== 0) return { missing: `exit ${r.status ?? r.signal}: ${(r.stderr || '').trim().split('\n').slice(-2).join(' ')}` };
  const last = r.stdout.trim().split('\n').pop() as string;
  const parsed = JSON.parse(last);
  return parsed.sift ?? parsed;
}

// Starts the backend's worker threads (2 on these machines), as `npm run bench` does.
await setBackend('cpu');

if (args.includes('--method')) {
  log(JSON.stringify(await one(opt('method', 'sift') as MethodName)));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const python = process.env.SIFT_BENCH_PYTHON ?? '/usr/bin/python3';
const peers = fileURLToPath(new URL('../peers/torch_sift.py', import.meta.url));
const torch = (threads: number) =>
  child(python, [peers, JSON.stringify({ threads, density, steps, gpt2: c })], { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), PYTHONPATH: fileURLToPath(new URL('../peers', import.meta.url)) });
const sift = (method: MethodName) => child(process.execPath, ['--import', 'tsx', self, '--method', method, '--size', size, '--steps', String(steps)]);
const loadBefore = os.loadavg()[0];
const plan: [string, () => Measured | { missing: string }][] = [
  ['siftjs SIFT', () => sift('sift')],
  ['siftjs LoRA (equal trainable params)', () => sift('lora')],
  ['siftjs full fine-tuning', () => sift('full')],
  ['PyTorch SIFT, Figure 5 (2 threads)', () => torch(2)],
  ['PyTorch SIFT, Figure 5 (1 thread)', () => torch(1)],
];
const rows: [string, Measured | { missing: string }][] = [];
for (const [name, run] of plan) {
  log(`measuring ${name} …`);
  const r = run();
  log(`  ${JSON.stringify(r)}`);
  rows.push([name, r]);
}
const cpu = (() => {
  try {
    return execSync("lscpu | sed -n 's/^Model name: *//p'", { encoding: 'utf8' }).trim();
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
})();
const sift0 = rows[0][1];
const ratio = (r: Measured | { missing: string }) => ('missing' in r || 'missing' in sift0 ? '–' : `${(sift0.tokensPerSecond / r.tokensPerSecond).toFixed(2)}×`);
const date = new Date().toISOString().slice(0, 10);
const md = [
  `# A SIFT fine-tuning step beside its peers, GPT-2 ${size} (${date})`,
  '',
  `Host: ${cpu}, ${os.cpus().length} cores, Node ${process.version}; siftjs backend: ${JSON.stringify(getBackend().info())}. Load average before: ${loadBefore.toFixed(2)}.`,
  `Model: ${c.n_layer} × ${c.n_embd}, ${c.n_head} heads, vocabulary ${c.vocab}; one step on ${c.batch} × ${c.seq} tokens (causal LM), median of ${steps} steps after the selection step.`,
  `SIFT: density ${density} on ${targets.join(', ')} (weights and biases). LoRA: the rank closest to SIFT's trainable count on the same layers.`,
  `Regenerate: \`node --import tsx benchmarks/suites/sift-step.ts --size ${size}\`.`,
  '',
  '| run | trainable | step (ms) | tokens/s | siftjs SIFT ÷ this (tokens/s) |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map(([name, r]) => ('missing' in r ? `| ${name} | – | – | – (${r.missing}) | – |` : `| ${name} | ${r.trainable.toLocaleString('en')} | ${r.ms.toFixed(0)} | ${r.tokensPerSecond.toFixed(1)} | ${ratio(r)} |`)),
  '',
].join('\n');
const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [ext, text] of [['json', `${JSON.stringify({ date, cpu, size, config: c, density, targets, loadBefore, rows: Object.fromEntries(rows) }, null, 2)}\n`], ['md', md]] as const) {
  const file = `${dir}sift-step-${size}.${ext}`;
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}
log(md);
