import { fc, test } from '@fast-check/vitest';
import { type Tensor, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { broadcastableTo, refArb, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtype, floatDtypes } from '../support/backends.js';
import { read } from '../support/read.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';

const RUNS = { numRuns: 30 };
const dim = fc.integer({ min: 0, max: 5 });

/** Batched operands whose batch dims broadcast, plus 1-D cases. */
const matmulShapes = fc.oneof(
  fc
    .tuple(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), dim, dim, dim)
    .chain(([batch, m, k, n]) =>
      fc.tuple(broadcastableTo(batch), broadcastableTo(batch)).map(([ba, bb]) => [
        [...ba, m, k],
        [...bb, k, n],
      ]),
    ),
  fc.tuple(dim, dim).map(([k, n]) => [[k], [k, n]]),
  fc.tuple(dim, dim).map(([m, k]) => [[m, k], [k]]),
  dim.map((k) => [[k], [k]]),
  fc.tuple(dim, dim, dim).map(([b, k, n]) => [[k], [b + 1, k, n]]),
);

describe.each(backendsUnderTest())('matmul on $name', (backend) => {
  beforeAll(() => backend.start());

  const input = matmulShapes.chain(([sa, sb]) => {
    const out = ref.matmul(ref.ref(sa, new Float64Array(sa.reduce((p, d) => p * d, 1))), ref.ref(sb, new Float64Array(sb.reduce((p, d) => p * d, 1)))).shape;
    return fc.tuple(refArb(sa), refArb(sb), weightsArb(out));
  });

  test.prop([input], RUNS)('batched, broadcasting matmul matches the naive float64 product', ([a, b]) =>
    checkForward(([x, y]) => x.matmul(y), ([x, y]) => ref.matmul(x, y), [a, b], { dtypes: ['float64', 'float32'], f32: { rtol: 1e-4, atol: 1e-4 } }),
  );

  test.prop([input], RUNS)('matmul gradients (G·Bᵀ, Aᵀ·G summed over broadcast) match finite differences', ([a, b, w]) =>
    checkGradient(([x, y]) => x.matmul(y), ([x, y]) => ref.matmul(x, y), [a, b], w),
  );

  test.prop([fc.tuple(dim, dim, dim).chain(([m, k, n]) => fc.tuple(refArb([k, m]), refArb([n, k])))], RUNS)(
    'transposed operands are read in place (no copy) and give Aᵀ·Bᵀ',
    ([a, b]) =>
      checkForward(
        ([x, y]) => x.transpose().matmul(y.transpose()),
        ([x, y]) => ref.matmul(ref.transpose(x, 0, 1), ref.transpose(y, 0, 1)),
        [a, b],
        { f32: { rtol: 1e-4, atol: 1e-4 } },
      ),
  );

  // A matrix that is not rows or columns of memory: a broadcast row, column or scalar (the expanded gradient of a
  // sum reaches matmul so), or every other column of a wider matrix. Expected: the naive float64 product of the
  // values the views show.
  const expandedKinds = ['row', 'column', 'scalar', 'every other column', 'plain'] as const;
  type Kind = (typeof expandedKinds)[number];
  /** A [rows, cols] view of `kind` and the values it shows, from seed-derived data. */
  function operand(kind: Kind, rows: number, cols: number, seed: number, dtype: ReturnType<typeof floatDtype>): [Tensor, number[][]] {
    const v = (i: number) => Math.sin(seed + 1.7 * i);
    if (kind === 'row') return [tensor(Array.from({ length: cols }, (_, j) => v(j)), { shape: [1, cols], dtype }).expand(rows, cols), Array.from({ length: rows }, () => Array.from({ length: cols }, (_, j) => v(j)))];
    if (kind === 'column') return [tensor(Array.from({ length: rows }, (_, i) => v(i)), { shape: [rows, 1], dtype }).expand(rows, cols), Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, () => v(i)))];
    if (kind === 'scalar') return [tensor([v(0)], { shape: [1, 1], dtype }).expand(rows, cols), Array.from({ length: rows }, () => Array.from({ length: cols }, () => v(0)))];
    const wide = kind === 'plain' ? 1 : 2;
    const data = Array.from({ length: rows * cols * wide }, (_, i) => v(i));
    const t = tensor(data, { shape: [rows, cols * wide], dtype });
    const view = kind === 'plain' ? t : t.reshape([rows, cols, 2]).narrow(2, 0, 1).reshape([rows, cols]);
    return [view, Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => data[i * cols * wide + j * wide]))];
  }

  test.prop([fc.constantFrom(...expandedKinds), fc.constantFrom(...expandedKinds), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer()], RUNS)(
    'operands whose matrices are broadcast or doubly strided give the naive float64 product of their values',
    async (ka, kb, m, k, n, seed) => {
      const dtype = floatDtype(backend);
      const [got, [, va], [, vb]] = await read(() => {
        const a = operand(ka, m, k, seed, dtype);
        const b = operand(kb, k, n, seed + 99, dtype);
        return [a[0].matmul(b[0]), a, b] as const;
      });
      const expected = Array.from({ length: m * n }, (_, idx) => {
        const [i, j] = [Math.floor(idx / n), idx % n];
        let s = 0;
        for (let p = 0; p < k; p++) s += va[i][p] * vb[p][j];
        return s;
      });
      const tol = dtype === 'float64' ? 1e-12 : 1e-4;
      (got as number[]).forEach((g, i) => expect(Math.abs(g - expected[i]), `${ka}·${kb} ${m}×${k}×${n} element ${i}`).toBeLessThanOrEqual(tol * (1 + k)));
    },
  );

  it.each(floatDtypes(backend).reverse())('crosses the kernel block sizes (130×300 · 300×67, B transposed too) in %s', async (dtype) => {
    const [products, expected] = await read(() => {
      const m = 130, k = 300, n = 67;
      const a = Float64Array.from({ length: m * k }, (_, i) => Math.sin(i));
      const b = Float64Array.from({ length: k * n }, (_, i) => Math.cos(i));
      const bT = ref.transpose(ref.ref([k, n], b), 0, 1).data;
      const at = tensor(a, { shape: [m, k], dtype });
      const expected = ref.matmul(ref.ref([m, k], a), ref.ref([k, n], b));
      return [[at.matmul(tensor(b, { shape: [k, n], dtype })), at.matmul(tensor(bT, { shape: [n, k], dtype }).transpose())], expected] as const;
    });
    const tol = dtype === 'float64' ? 1e-9 : 1e-3;
    for (const got of products) {
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected.data[i]));
      expect(worst).toBeLessThan(tol);
    }
  });

  test.prop([fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 200, max: 600 }), fc.integer({ min: 1, max: 70 }))], { numRuns: 10 })(
    'large float32 products (the packed SIMD / threaded path) match the float64 reference',
    ([batch, m, k, n]) =>
      checkForward(([x, y]) => x.matmul(y), ([x, y]) => ref.matmul(x, y), [
        ref.ref([batch, m, k], Float64Array.from({ length: batch * m * k }, (_, i) => Math.sin(i * 0.37))),
        ref.ref([k, n], Float64Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11))),
      ], { dtypes: ['float32'], f32: { rtol: 1e-4, atol: 1e-3 } }),
  );

  test.prop([fc.tuple(dim, dim, dim, dim).chain(([m, k, l, n]) => fc.tuple(refArb([m, k]), refArb([k, l]), refArb([l, n])))], RUNS)(
    'matmul is associative up to rounding',
    async ([a, b, c]) => {
      const dtype = floatDtype();
      const [left, right] = await read(() => {
        const t = (r: ref.Ref): Tensor => tensor(r.data, { shape: r.shape, dtype });
        return [t(a).matmul(t(b)).matmul(t(c)), t(a).matmul(t(b).matmul(t(c)))];
      });
      // Rounding: float64 where the backend has it; float32 (inner dims ≤ 5, |values| ≤ 3, sums up to ~700) elsewhere.
      const tol = dtype === 'float64' ? 1e-9 : 1e-3;
      for (let i = 0; i < left.length; i++) expect(Math.abs(left[i] - right[i])).toBeLessThan(tol * (1 + Math.abs(left[i])));
    },
  );
});
