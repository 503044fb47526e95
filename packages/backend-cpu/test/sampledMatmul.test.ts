import { fc, test } from '@fast-check/vitest';
import type { BackendStorage, View } from '@siftjs/tensor';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { CpuBackend } from '../src/backend.js';

/**
 * sampledMatmul (SIFT's weight-gradient components): the WebAssembly SIMD kernel and the TypeScript one give the same
 * bits, and both equal the definition Σₘ a[m, r]·g[m, c] summed in float64 — over row counts that are not multiples of
 * the chunk or the vector width, row-strided and transposed operands, and both index layouts.
 */
const simd = new CpuBackend({ threads: 1, blas: false });
const ts = new CpuBackend({ threads: 1, simd: false, blas: false });
const live: [CpuBackend, BackendStorage][] = [];

afterEach(() => {
  for (const [b, s] of live.splice(0)) b.free(s);
  expect(simd.memoryStats().bytesInUse).toBe(0);
  expect(ts.memoryStats().bytesInUse).toBe(0);
});

function values(seed: number, length: number): Float32Array {
  let s = seed | 0;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    return (s >>> 8) / 2 ** 23 - 1;
  });
}

/** A [rows, cols] view of `data`; with `padded`, every row is followed by 3 unused elements (a row stride > cols). */
function view(b: CpuBackend, data: Float32Array, rows: number, cols: number, padded: boolean, dtype: 'int32' | 'float32' = 'float32'): View {
  const stride = padded ? cols + 3 : cols;
  const full = new Float32Array(rows * stride);
  for (let r = 0; r < rows; r++) full.set(data.subarray(r * cols, (r + 1) * cols), r * stride);
  const storage = b.upload(dtype, dtype === 'int32' ? Int32Array.from(full) : full);
  live.push([b, storage]);
  return { storage, dtype, shape: [rows, cols], strides: [stride, 1], offset: 0 };
}

const cases = fc.record({
  m: fc.integer({ min: 1, max: 150 }),
  k: fc.integer({ min: 1, max: 9 }),
  n: fc.integer({ min: 1, max: 9 }),
  transposed: fc.boolean(),
  padded: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1 << 20 }),
});

test.prop([cases.chain((c) => fc.tuple(fc.constant(c), fc.array(fc.nat(c.k * c.n - 1), { minLength: 1, maxLength: 40 })))], { numRuns: 60 })(
  'the SIMD and TypeScript kernels give the same bits, equal to the float64 definition',
  ([c, ids]) => {
    const a = values(c.seed, c.m * c.k);
    const g = values(c.seed + 1, c.m * c.n);
    const got = [simd, ts].map((b) => {
      const idx = b.upload('int32', Int32Array.from(ids));
      live.push([b, idx]);
      const out = b.sampledMatmul(view(b, a, c.m, c.k, c.padded), view(b, g, c.m, c.n, c.padded), { storage: idx, dtype: 'int32', shape: [ids.length], strides: [1], offset: 0 }, c.transposed);
      live.push([b, out]);
      return Array.from(b.readSync(out, 'float32', ids.length));
    });
    expect(got[0]).toEqual(got[1]);
    ids.forEach((f, j) => {
      const [r, col] = c.transposed ? [f % c.k, Math.floor(f / c.k)] : [Math.floor(f / c.n), f % c.n];
      let sum = 0;
      let magnitude = 0;
      for (let i = 0; i < c.m; i++) {
        sum += a[i * c.k + r] * g[i * c.n + col];
        magnitude += Math.abs(a[i * c.k + r] * g[i * c.n + col]);
      }
      // Summed in float64 in another order, then rounded once to float32: within half an ulp of float32, plus a hair.
      expect(Math.abs(got[0][j] - sum)).toBeLessThanOrEqual(2 ** -24 * Math.abs(sum) + 1e-12 * magnitude + 1e-30);
    });
  },
);

test.prop([fc.integer({ min: 2, max: 20 })])('an index outside the weight is an error naming the op, and nothing leaks', (size) => {
  const a = view(simd, values(1, 4 * size), 4, size, false);
  const g = view(simd, values(2, 4), 4, 1, false);
  const idx = simd.upload('int32', Int32Array.of(0, size));
  live.push([simd, idx]);
  expect(() => simd.sampledMatmul(a, g, { storage: idx, dtype: 'int32', shape: [2], strides: [1], offset: 0 }, false)).toThrow(/sampledMatmul/);
});

describe('split over threads', () => {
  // Enough indices that a 64-row chunk's dots (cost 64 each) make several chunks of the row job: both threads work.
  const two = new CpuBackend({ threads: 2, blas: false });
  beforeAll(() => two.init());
  afterAll(() => two.dispose());

  test.prop([fc.integer({ min: 1, max: 1 << 20 }), fc.integer({ min: 65, max: 200 }), fc.boolean()], { numRuns: 6 })(
    'two threads give the one-thread bits, which equal the float64 definition',
    (seed, m, transposed) => {
      const [k, n, count] = [48, 40, 1900];
      const a = values(seed, m * k);
      const g = values(seed + 1, m * n);
      let s = seed;
      const ids = Int32Array.from({ length: count }, () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8) % (k * n));
      const got = [simd, two].map((b) => {
        const idx = b.upload('int32', ids);
        const av = b.upload('float32', a);
        const gv = b.upload('float32', g);
        const out = b.sampledMatmul(
          { storage: av, dtype: 'float32', shape: [m, k], strides: [k, 1], offset: 0 },
          { storage: gv, dtype: 'float32', shape: [m, n], strides: [n, 1], offset: 0 },
          { storage: idx, dtype: 'int32', shape: [count], strides: [1], offset: 0 },
          transposed,
        );
        const v = Array.from(b.readSync(out, 'float32', count));
        for (const st of [idx, av, gv, out]) b.free(st);
        return v;
      });
      expect(two.info().threads).toBe(2);
      expect(got[1]).toEqual(got[0]);
      ids.forEach((f, j) => {
        const [r, col] = transposed ? [f % k, Math.floor(f / k)] : [Math.floor(f / n), f % n];
        let sum = 0;
        for (let i = 0; i < m; i++) sum += a[i * k + r] * g[i * n + col];
        expect(Math.abs(got[1][j] - sum)).toBeLessThanOrEqual(2 ** -24 * Math.abs(sum) + 1e-9);
      });
    },
  );
});
