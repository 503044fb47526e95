import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backend.js';
import type { View } from '@siftjs/tensor';

/** One backend per thread count and kernel kind (SIMD with FMA where available, plain SIMD, TypeScript). */
const counts = [1, 2, 4];
const kinds = [{}, { fma: false }, { simd: false }].map((opts) => counts.map((threads) => new CpuBackend({ threads, ...opts })));
const backends = kinds.flat();

beforeAll(() => Promise.all(backends.map((b) => b.init())));
afterAll(() => Promise.all(backends.map((b) => b.dispose())));

/** A [batch, r, c] view of `data`; `transposed`: the data holds [batch, c, r] and the view reads it transposed. */
function view(b: CpuBackend, data: Float32Array | Float64Array, [batch, r, c]: number[], transposed = false): View {
  const dtype = data instanceof Float64Array ? 'float64' : 'float32';
  const storage = b.upload(dtype, data);
  const strides = transposed ? [r * c, 1, r] : [r * c, c, 1];
  return { storage, dtype, shape: [batch, r, c], strides, offset: 0 };
}

describe('CPU matmul threads', () => {
  it('starts the requested number of threads', () => {
    for (const kind of kinds) expect(kind.map((b) => b.info().threads)).toEqual(counts);
  });

  test.prop(
    [
      fc.record({
        batch: fc.integer({ min: 1, max: 3 }),
        m: fc.integer({ min: 1, max: 200 }),
        k: fc.integer({ min: 1, max: 300 }),
        n: fc.integer({ min: 1, max: 600 }), // wide enough to split by column blocks too
        f64: fc.boolean(),
        transposeB: fc.boolean(),
        seed: fc.integer(),
      }),
    ],
    { numRuns: 12 },
  )('results are bitwise identical with 1, 2 and 4 threads (SIMD with and without FMA, TypeScript kernels), and finite', ({ batch, m, k, n, f64, transposeB, seed }) => {
    let s = seed;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8) / 2 ** 24 - 0.5;
    const make = (length: number) => (f64 ? Float64Array.from({ length }, rnd) : Float32Array.from({ length }, rnd));
    const a = make(batch * m * k);
    const bData = make(batch * k * n);
    for (const kind of kinds) {
      const outs = kind.map((backend) => {
        const av = view(backend, a, [batch, m, k]);
        const bv = view(backend, bData, [batch, k, n], transposeB);
        const out = backend.matmul(av, bv);
        const values = backend.readSync(out, av.dtype, batch * m * n);
        for (const st of [av.storage, bv.storage, out]) backend.free(st);
        return Array.from(values);
      });
      expect(outs[0].every(Number.isFinite)).toBe(true);
      expect(outs[1]).toEqual(outs[0]);
      expect(outs[2]).toEqual(outs[0]);
    }
  });

  it('leaves no scratch blocks behind in the heap', () => {
    for (const b of backends) expect(b.memoryStats().bytesInUse).toBe(0);
  });
});
