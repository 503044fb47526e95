// jax-js (@jax-js/jax) on its wasm device, in a process of its own: prints {"matmul": {n: GFLOP/s}, "info": …}.
// Only the matmul suite: the GPT-2 step would need the model written again in jax-js.
import { defaultDevice, init, jit, numpy as np } from '@jax-js/jax';
import { gflops, medianMs } from '../lib/timing.js';

const cfg = JSON.parse(process.argv[2]) as { matmul_sizes: number[] };
const devices = await init('wasm');
if (!devices.includes('wasm')) throw new Error(`jax-js: no wasm device (have ${devices.join(', ')})`);
defaultDevice('wasm');
const mm = jit((a: np.Array, b: np.Array) => np.matmul(a, b));
const matmul: Record<string, number> = {};
function randomData(length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.random() - 0.5;
  return out;
}
for (const n of cfg.matmul_sizes) {
  const a = np.array(randomData(n * n)).reshape([n, n]);
  const b = np.array(randomData(n * n)).reshape([n, n]);
  const ms = await medianMs(async () => {
    const c = mm(a.ref, b.ref);
    await c.data();
  }, { minRuns: 2, minMs: 500 });
  a.dispose();
  b.dispose();
  matmul[n] = gflops(2 * n ** 3, ms);
}
// jax-js spreads wasm kernels over Web Workers (the global Worker); Node has none, so it runs on one thread here.
const threads = typeof (globalThis as { Worker?: unknown }).Worker === 'function' ? 'Web Workers' : '1 (no global Worker in Node)';
console.log(JSON.stringify({ info: { devices, threads }, matmul, mlp: null }));
process.exit(0);
