/**
 * `npm run bench`: every suite for the CPU backend, each figure beside its peers measured in the same run.
 * Writes benchmarks/results/cpu.json and cpu.md. Options: --quick (smaller sizes), --out NAME.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { getBackend, setBackend } from '@siftjs/tensor';
import '@siftjs/backend-cpu';
import { loadTfjs, runTorch } from './lib/peers.js';
import { siftMatmul, tfjsMatmul } from './suites/matmul.js';
import { type MlpConfig, siftMlp, tfjsMlp } from './suites/mlp.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outName = args[args.indexOf('--out') + 1] && args.includes('--out') ? args[args.indexOf('--out') + 1] : 'cpu';

const sizes = quick ? [256, 512] : [256, 512, 1024, 2048];
/** tfjs-backend-cpu is pure JS at well under 1 GFLOP/s: 2048³ would take minutes per run. */
const tfjsCpuMax = 1024;
const mlp: MlpConfig = { batch: 128, inputs: 256, hidden: 512, outputs: 64 };
const threads = Number(process.env.SIFT_BENCH_TORCH_THREADS ?? 2);

type Row = { case: string; unit: string; siftjs: number | null; peers: Record<string, number | null> };
const rows: Row[] = [];
const notes: string[] = [];
const log = (s: string) => process.stdout.write(s + '\n');

await setBackend('cpu');
log(`siftjs cpu backend: ${JSON.stringify(getBackend().info())}`);

const tfCpu = await loadTfjs('cpu');
const tfCpuTf = 'tf' in tfCpu ? tfCpu.tf : null;
if (!tfCpuTf) notes.push(`tfjs-backend-cpu not measured: ${(tfCpu as { missing: string }).missing}`);

// Matmul
for (const n of sizes) {
  const ours = await siftMatmul(n);
  const peers: Row['peers'] = {};
  if (tfCpuTf && n <= tfjsCpuMax) {
    await tfCpuTf.setBackend('cpu');
    peers['tfjs-cpu'] = await tfjsMatmul(tfCpuTf, n);
  }
  const wasm = await loadTfjs('wasm');
  if ('tf' in wasm) peers['tfjs-wasm'] = await tfjsMatmul(wasm.tf, n);
  else if (n === sizes[0]) notes.push(`tfjs-backend-wasm not measured: ${wasm.missing}`);
  rows.push({ case: `matmul f32 ${n}³`, unit: 'GFLOP/s', siftjs: ours, peers });
  log(`matmul ${n}: siftjs ${ours.toFixed(2)} GFLOP/s; ${Object.entries(peers).map(([k, v]) => `${k} ${v?.toFixed(2)}`).join(', ')}`);
}

// MLP forward + backward
{
  const ours = await siftMlp(mlp);
  const peers: Row['peers'] = {};
  if (tfCpuTf) {
    await tfCpuTf.setBackend('cpu');
    peers['tfjs-cpu'] = await tfjsMlp(tfCpuTf, mlp);
  }
  const wasm = await loadTfjs('wasm');
  if ('tf' in wasm) peers['tfjs-wasm'] = await tfjsMlp(wasm.tf, mlp);
  rows.push({ case: `2-layer MLP fwd+bwd (${mlp.batch}×${mlp.inputs}→${mlp.hidden}→${mlp.outputs})`, unit: 'ms (lower is better)', siftjs: ours, peers });
  log(`mlp: siftjs ${ours.toFixed(2)} ms; ${Object.entries(peers).map(([k, v]) => `${k} ${v?.toFixed(2)}`).join(', ')}`);
}

// PyTorch, same configuration, in a child process
const torch = runTorch({ threads, matmul_sizes: sizes, mlp });
if ('missing' in torch) notes.push(`PyTorch not measured: ${torch.missing}`);
else {
  for (const r of rows) {
    const n = /matmul f32 (\d+)/.exec(r.case)?.[1];
    r.peers[`pytorch-cpu (${torch.threads} threads)`] = n ? (torch.matmul[n] ?? null) : torch.mlp;
  }
  log(`pytorch ${torch.version}: ${JSON.stringify(torch)}`);
}

const result = {
  date: new Date().toISOString(),
  host: { cpus: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
  backend: getBackend().info(),
  rows,
  notes,
};

const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeAtomic(`${dir}${outName}.json`, JSON.stringify(result, null, 2) + '\n');
writeAtomic(`${dir}${outName}.md`, table(result));
log(`\n${table(result)}`);

function table(r: typeof result): string {
  const peerNames = [...new Set(r.rows.flatMap((x) => Object.keys(x.peers)))];
  const ratio = (row: Row, peer: string) => {
    const p = row.peers[peer];
    if (row.siftjs == null || p == null) return '–';
    const x = row.unit.startsWith('ms') ? p / row.siftjs : row.siftjs / p;
    return `${x.toFixed(2)}×`;
  };
  const fmt = (v: number | null | undefined) => (v == null ? '–' : v >= 100 ? v.toFixed(0) : v.toFixed(2));
  const lines = [
    `# CPU benchmarks (${r.date.slice(0, 10)})`,
    '',
    `Host: ${r.host.cpus}, ${r.host.cores} cores, Node ${r.host.node}. siftjs backend: ${r.backend.description}.`,
    'Each peer measured in the same run; "×" is siftjs relative to the peer (above 1 means siftjs is faster).',
    '',
    `| case | unit | siftjs | ${peerNames.map((p) => `${p} | siftjs ÷ ${p}`).join(' | ')} |`,
    `| --- | --- | --- | ${peerNames.map(() => '--- | ---').join(' | ')} |`,
    ...r.rows.map((row) => `| ${row.case} | ${row.unit} | ${fmt(row.siftjs)} | ${peerNames.map((p) => `${fmt(row.peers[p])} | ${ratio(row, p)}`).join(' | ')} |`),
    '',
    ...r.notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}

/** Write to a temporary file, then rename: a crash never leaves a half-written result. */
function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}
