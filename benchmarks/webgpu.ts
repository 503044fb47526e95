/**
 * `npm run bench -- --backend webgpu`: siftjs's WebGPU backend beside @tensorflow/tfjs-backend-webgpu on the same
 * adapter, each in its own process, in this run: f32 matmul GFLOP/s at 256…4096 and a GPT-2-architecture
 * training step (forward + backward + AdamW: tokens/s and peak bytes, siftjs only: tfjs has no such model).
 * Writes benchmarks/results/webgpu-<adapter>.{json,md}.
 *
 * On a software adapter (SwiftShader, Mesa llvmpipe) the figures say nothing about speed — the CPU runs the
 * shaders — so the suite is cut to sizes that finish in minutes (matmul ≤ 1024³, the --quick GPT-2); on a real GPU
 * it runs in full. `--quick` cuts it on any adapter.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Measured, type Outcome, runChild } from './lib/peers.js';
import { type Gpt2Config, describeGpt2 } from './suites/gpt2.js';

const args = process.argv.slice(2);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const log = (s: string) => process.stdout.write(`${s}\n`);
const sift = (config: object | 'probe') => runChild(process.execPath, ['--import', 'tsx', here('peers/sift-webgpu.ts'), config === 'probe' ? config : JSON.stringify(config)]);

const probe = sift('probe');
if ('missing' in probe) {
  log(`no WebGPU adapter: ${probe.missing}`);
  process.exit(1);
}
const info = probe.info as { path: string; adapter: string; description: string };
const software = /swiftshader|llvmpipe|opengles/i.test(`${info.path} ${info.adapter} ${info.description}`);
const small = software || args.includes('--quick');
const sizes = small ? [256, 512, 1024] : [256, 512, 1024, 2048, 4096];
const gpt2: Gpt2Config = small
  ? { vocab: 2048, n_layer: 2, n_embd: 128, n_head: 4, seq: 64, batch: 4 }
  : { vocab: 50257, n_layer: 12, n_embd: 768, n_head: 12, seq: 512, batch: 8 };
log(`adapter: ${info.description}${software ? ' (software: sizes cut, figures are not speed)' : ''}`);

log('measuring siftjs (webgpu) …');
const ours = sift({ matmul_sizes: sizes, gpt2 });
log(`  ${JSON.stringify(ours)}`);
log('measuring tfjs-webgpu …');
const tfjs = runChild(process.execPath, ['--import', 'tsx', here('peers/tfjs-webgpu.ts'), info.path, JSON.stringify({ matmul_sizes: sizes })]);
log(`  ${JSON.stringify(tfjs)}`);

const fig = (o: Outcome, n: number): number | null => ('missing' in o ? null : (o.matmul[String(n)] ?? null));
const fmt = (v: number | null, digits = 2) => (v === null ? '–' : v >= 100 ? v.toFixed(0) : v.toFixed(digits));
const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '–' : `${(a / b).toFixed(2)}×`);
const lines = [
  `# WebGPU benchmarks (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Adapter: ${info.description}. Host: ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version}.`,
  software ? 'A software adapter: the shaders run on the CPU, so these figures check that the suite runs, not speed.' : '',
  'Each implementation ran in its own process, in this run; "×" is siftjs ÷ tfjs-webgpu. Regenerate with `npm run bench -- --backend webgpu`.',
  '',
  '| case | unit | siftjs | tfjs-webgpu | siftjs ÷ tfjs-webgpu |',
  '| --- | --- | --- | --- | --- |',
  ...sizes.map((n) => `| matmul f32 ${n}³ | GFLOP/s | ${fmt(fig(ours, n))} | ${fmt(fig(tfjs, n))} | ${ratio(fig(ours, n), fig(tfjs, n))} |`),
];
const step = 'missing' in ours ? null : (ours.gpt2 as (Measured['gpt2'] & { peakBytes: number }) | null);
const stepMissing = 'missing' in ours ? ours.missing : (ours.gpt2Missing as string | null);
lines.push(
  step
    ? `| GPT-2 training step (${describeGpt2(gpt2)}) | tokens/s | ${fmt(step.tokensPerSecond)} (peak ${(step.peakBytes / 2 ** 20).toFixed(0)} MiB) | – | – |`
    : `| GPT-2 training step (${describeGpt2(gpt2)}) | tokens/s | not measured: ${stepMissing} | – | – |`,
);
for (const [name, o] of [['siftjs', ours], ['tfjs-webgpu', tfjs]] as const) if ('missing' in o) lines.push('', `${name} not measured: ${o.missing}`);

const slug = (info.adapter || info.description).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
const dir = here('results');
mkdirSync(dir, { recursive: true });
const write = (file: string, text: string) => {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file); // a crash mid-write leaves the previous results whole
};
write(`${dir}/webgpu-${slug}.json`, `${JSON.stringify({ date: new Date().toISOString(), adapter: info, software, sizes, gpt2, siftjs: ours, tfjs }, null, 2)}\n`);
write(`${dir}/webgpu-${slug}.md`, `${lines.filter((l, i) => l !== '' || lines[i - 1] !== '').join('\n')}\n`);
log(lines.join('\n'));
log(`wrote benchmarks/results/webgpu-${slug}.{json,md}`);
process.exit(0);
