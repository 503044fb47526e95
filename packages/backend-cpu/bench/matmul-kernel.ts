// Micro-benchmark of the single-thread TypeScript gemm kernel: `npx tsx packages/backend-cpu/bench/matmul-kernel.ts`.
// Prints GFLOP/s = 2·M·N·K / seconds, the median of several timed runs after a warm-up run.
import { cpus } from 'node:os';
import { gemm } from '../src/kernels/matmul/gemm.js';

function random(length: number): Float32Array {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = Math.random() - 0.5;
  return a;
}

/** Median seconds of `run` over at least `minRuns` runs (and up to ~3 s of them), after one warm-up run. */
function medianSeconds(run: () => void, minRuns = 5): number {
  run();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start < 3000 && times.length < 15)) {
    const t0 = performance.now();
    run();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1];
}

/** The textbook i-j-k loop over the same arrays, for comparison. */
function naive(n: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
  }
}

function gflops(n: number, seconds: number): string {
  return ((2 * n ** 3) / seconds / 1e9).toFixed(2).padStart(6);
}

function benchGemm(n: number, transposeB: boolean): string {
  const a = random(n * n);
  const b = random(n * n);
  const c = new Float32Array(n * n);
  // B transposed: the same n×n operand read from storage laid out as Bᵀ (row stride 1, column stride n).
  const [brs, bcs] = transposeB ? [1, n] : [n, 1];
  return gflops(n, medianSeconds(() => gemm(n, n, n, a, 0, n, 1, b, 0, brs, bcs, c, 0, n, false), n >= 2048 ? 3 : 5));
}

function benchNaive(n: number): string {
  const a = random(n * n);
  const b = random(n * n);
  const c = new Float32Array(n * n);
  return gflops(n, medianSeconds(() => naive(n, a, b, c), 3));
}

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, single thread, float32 in/out`);
console.log('case                          GFLOP/s');
for (const n of [256, 512, 1024, 2048]) console.log(`gemm ${`${n}³`.padEnd(24)} ${benchGemm(n, false)}`);
console.log(`gemm ${'1024³ (B transposed)'.padEnd(24)} ${benchGemm(1024, true)}`);
for (const n of [256, 512]) console.log(`naive i-j-k ${`${n}³`.padEnd(17)} ${benchNaive(n)}`);
