// siftjs on its WebGPU backend, in a process of its own: prints {"matmul": {n: GFLOP/s}, "gpt2": …, "info": …}.
import { getBackend, setBackend } from '@siftjs/tensor';
import '@siftjs/backend-webgpu';
import { type Gpt2Config, siftGpt2 } from '../suites/gpt2.js';
import { siftMatmul } from '../suites/matmul.js';

await setBackend('webgpu');
const backend = getBackend();
if (process.argv[2] === 'probe') {
  // Only which adapter: the runner sizes the suite by it.
  console.log(JSON.stringify({ info: backend.info(), matmul: {}, mlp: null }));
  process.exit(0);
}
const cfg = JSON.parse(process.argv[2]) as { matmul_sizes: number[]; gpt2: Gpt2Config };
const matmul: Record<string, number> = {};
for (const n of cfg.matmul_sizes) matmul[n] = await siftMatmul(n);
let gpt2: (Awaited<ReturnType<typeof siftGpt2>> & { peakBytes: number }) | null = null;
let gpt2Missing: string | null = null;
try {
  backend.resetPeak?.();
  const r = await siftGpt2(cfg.gpt2);
  gpt2 = { ...r, peakBytes: backend.memoryStats().peakBytes };
} catch (e) {
  // A kernel the backend lacks, or a device limit: recorded in the table rather than ending the run.
  gpt2Missing = (e as Error).message.split('\n')[0];
}
console.log(JSON.stringify({ info: backend.info(), matmul, mlp: null, gpt2, gpt2Missing }));
process.exit(0);
