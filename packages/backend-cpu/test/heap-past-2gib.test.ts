import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { View } from '@siftjs/tensor';
import { CpuBackend } from '../src/backend.js';

/**
 * Tensors whose heap offsets pass 2 GiB (2^31 bytes): a byte offset read as a signed 32-bit integer goes negative
 * there, and a negative index into a typed array reads the wrong memory without a word. Full fine-tuning of GPT-2
 * small (weights, gradients and two AdamW moments: 2 GB) got there at its third step: the matmul work list sat past
 * 2 GiB, every product of the forward read garbage, and the loss settled at ln(vocabulary). Expected values come
 * from a float64 product written from the definition.
 */
const backends = [new CpuBackend({ threads: 2 }), new CpuBackend({ threads: 2, simd: false })];
beforeAll(async () => {
  await Promise.all(backends.map((b) => b.init()));
  // Never touched, so the pages are not committed: 2 GiB + 1 MiB of address space and no more.
  for (const b of backends) b.alloc('float32', 2 ** 29 + 2 ** 18);
});
afterAll(() => Promise.all(backends.map((b) => b.dispose())));

function rand(seed: number, length: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length }, () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8) / 2 ** 24 - 0.5);
}

describe.each(backends.map((b) => [b.info().kernels, b] as const))('CPU backend (%s) past 2 GiB of heap', (_, b) => {
  it('the filler put the next tensor past 2^31 bytes', () => {
    expect(b.heap.bytesReserved).toBeGreaterThan(2 ** 31);
  });

  it('a matmul split across both threads equals the float64 product', () => {
    const [m, k, n] = [96, 80, 320]; // big enough that the product is split into blocks run by both threads
    const a = rand(1, m * k);
    const w = rand(2, k * n);
    const av: View = { storage: b.upload('float32', a), dtype: 'float32', shape: [m, k], strides: [k, 1], offset: 0 };
    const wv: View = { storage: b.upload('float32', w), dtype: 'float32', shape: [k, n], strides: [n, 1], offset: 0 };
    const out = b.matmul(av, wv);
    const got = b.readSync(out, 'float32', m * n);
    let worst = 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let want = 0;
        for (let p = 0; p < k; p++) want += a[i * k + p] * w[p * n + j];
        worst = Math.max(worst, Math.abs(got[i * n + j] - want));
      }
    for (const st of [av.storage, wv.storage, out]) b.free(st);
    expect(worst).toBeLessThan(1e-4);
  });

  it('softmax rows (a row job on both threads) equal the float64 definition', () => {
    const [rows, cols] = [256, 300];
    const x = rand(3, rows * cols);
    const xv: View = { storage: b.upload('float32', x), dtype: 'float32', shape: [rows, cols], strides: [cols, 1], offset: 0 };
    const out = b.softmax(xv, cols, false);
    const got = b.readSync(out, 'float32', rows * cols);
    let worst = 0;
    for (let r = 0; r < rows; r++) {
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, x[r * cols + c]);
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += Math.exp(x[r * cols + c] - max);
      for (let c = 0; c < cols; c++) worst = Math.max(worst, Math.abs(got[r * cols + c] - Math.exp(x[r * cols + c] - max) / sum));
    }
    for (const st of [xv.storage, out]) b.free(st);
    expect(worst).toBeLessThan(1e-6);
  });
});
