import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backend.js';
import type { View } from '@siftjs/tensor';

/** One backend per thread count and kernel kind (SIMD with FMA where available, plain SIMD, TypeScript). */
const counts = [1, 2, 4];
const kinds = [{}, { fma: false }, { simd: false }].map((opts) => counts.map((threads) => new CpuBackend({ threads, blas: false, ...opts })));
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

  test.prop(
    [
      fc.record({
        rows: fc.integer({ min: 1, max: 300 }),
        cols: fc.integer({ min: 1, max: 700 }),
        log: fc.boolean(),
        seed: fc.integer(),
      }),
    ],
    // rows·cols crosses the 32K-element chunk in about half the runs, so the work is split between threads
    { numRuns: 10 },
  )('row and elementwise kernels (softmax, norms forward and backward, gelu, AdamW) give the same bits with 1, 2 and 4 threads', ({ rows, cols, log, seed }) => {
    let s = seed;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8) / 2 ** 22 - 2;
    const n = rows * cols;
    const x = Float32Array.from({ length: n }, rnd);
    const dy = Float32Array.from({ length: n }, rnd);
    const w = Float32Array.from({ length: cols }, rnd);
    const state = [0, 1, 2].map(() => Float32Array.from({ length: n }, rnd).map(Math.abs));
    const hyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 };
    for (const kind of kinds) {
      const outs = kind.map((b) => {
        const up = (data: Float32Array, shape: number[]): View => ({ storage: b.upload('float32', data), dtype: 'float32', shape, strides: shape.length === 2 ? [cols, 1] : [1], offset: 0 });
        const [xv, dyv, wv] = [up(x, [rows, cols]), up(dy, [rows, cols]), up(w, [cols])];
        const y = b.softmax(xv, cols, log);
        const yv = { ...xv, storage: y };
        const dx = b.softmaxBackward(yv, dyv, cols, log);
        const g = b.unary('geluTanh', xv);
        const norm = b.layerNorm(xv, wv, null, cols, 1e-5);
        const back = b.layerNormBackward(dyv, xv, wv, norm, cols, { input: true, weight: true, bias: true });
        const [p, m, vv] = state.map((d) => b.upload('float32', d));
        b.adamw(p, dyv.storage, m, vv, 'float32', n, hyper);
        const outs = [y, dx, g, norm.y, norm.rstd, norm.mean!, p, m, vv, back.dx!, back.dweight!];
        const sizes = [n, n, n, n, rows, rows, n, n, n, n, cols];
        const got = outs.map((st, i) => Array.from(b.readSync(st, 'float32', sizes[i])));
        for (const st of [xv.storage, dyv.storage, wv.storage, ...outs, back.dbias!]) b.free(st);
        return got;
      });
      expect(outs[1]).toEqual(outs[0]);
      expect(outs[2]).toEqual(outs[0]);
    }
  });

  test.prop([fc.integer({ min: 262_000, max: 1_100_000 }), fc.integer()], { numRuns: 4 })(
    'a long sum (chunks of 256K elements over the threads, added in chunk order) gives the same bits with 1, 2 and 4 threads',
    (n, seed) => {
      let s = seed;
      const data = Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8) / 2 ** 20 - 8);
      for (const kind of kinds) {
        const sums = kind.map((b) => {
          const x: View = { storage: b.upload('float32', data), dtype: 'float32', shape: [n], strides: [1], offset: 0 };
          const out = b.reduce('sum', x, [0]);
          const got = b.readSync(out, 'float32', 1)[0];
          b.free(x.storage);
          b.free(out);
          return got;
        });
        expect(sums[1]).toBe(sums[0]);
        expect(sums[2]).toBe(sums[0]);
      }
    },
  );

  it('leaves no scratch blocks behind in the heap', () => {
    for (const b of backends) expect(b.memoryStats().bytesInUse).toBe(0);
  });
});
