// Micro-benchmark of the CPU gemm kernel alone: `npx tsx packages/backend-cpu/bench/matmul-kernel.ts`.
import { gemm, isSmallProduct } from '../src/kernels/matmul.js';

function bench(n: number, transB = false): number {
  const a = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const c = new Float32Array(n * n);
  const run = () => gemm(n, n, n, a, 0, n, 1, b, 0, transB ? 1 : n, transB ? n : 1, c, 0, n, false, isSmallProduct(n, n, n));
  run();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < 2000 && times.length < 20)) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return (2 * n ** 3) / (times[times.length >> 1] * 1e6);
}

for (const n of [256, 512, 1024]) console.log(`f32 ${n}³: ${bench(n).toFixed(2)} GFLOP/s`);
console.log(`f32 1024³ (B transposed): ${bench(1024, true).toFixed(2)} GFLOP/s`);
