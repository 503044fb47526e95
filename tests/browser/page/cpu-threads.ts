// The CPU backend in a cross-origin-isolated page: WebAssembly SIMD over shared memory, with Web Workers. Bundled by
// tests/browser/cpu-threads.test.ts.
import { CpuBackend } from '@siftjs/backend-cpu';
import type { View } from '@siftjs/tensor';

interface PageResult {
  isolated?: boolean;
  threads?: number;
  kernels?: unknown;
  sameBits?: boolean;
  error?: string;
}

const w = globalThis as unknown as { __result?: PageResult; crossOriginIsolated?: boolean };
try {
  const one = new CpuBackend({ threads: 1 });
  const two = new CpuBackend({ threads: 2 });
  await two.init();
  // A product large enough to be split over the threads, and softmax rows (a row job): the same bits either way.
  const [m, k, n] = [300, 200, 260];
  let s = 7;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8) / 2 ** 23 - 1;
  const a = Float32Array.from({ length: m * k }, rnd);
  const b = Float32Array.from({ length: k * n }, rnd);
  const run = (be: CpuBackend) => {
    const av: View = { storage: be.upload('float32', a), dtype: 'float32', shape: [m, k], strides: [k, 1], offset: 0 };
    const bv: View = { storage: be.upload('float32', b), dtype: 'float32', shape: [k, n], strides: [n, 1], offset: 0 };
    const c = be.matmul(av, bv);
    const sm = be.softmax({ storage: c, dtype: 'float32', shape: [m, n], strides: [n, 1], offset: 0 }, n, false);
    return [...be.readSync(c, 'float32', m * n), ...be.readSync(sm, 'float32', m * n)];
  };
  const [x, y] = [run(one), run(two)];
  w.__result = {
    isolated: w.crossOriginIsolated,
    threads: two.info().threads as number,
    kernels: two.info().kernels,
    sameBits: x.length === y.length && x.every((v, i) => Object.is(v, y[i])),
  };
} catch (e) {
  w.__result = { error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) };
}
