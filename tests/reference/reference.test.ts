import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import * as ref from './index.js';

/** The oracle is checked too: against values computed by hand or taken from 40-digit tables, and simple laws. */

const arr = (r: ref.Ref): number[] => Array.from(r.data);
const r1 = (v: number[]): ref.Ref => ref.ref([v.length], v);
const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-12): void => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `at ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol);
};
const values = fc.double({ min: -5, max: 5, noNaN: true, noDefaultInfinity: true });
/** A small shape (rank 1–3, dims 1–4) and values for it. */
const refArb = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
  .chain((shape) =>
    fc.array(values, { minLength: ref.size(shape), maxLength: ref.size(shape) }).map((v) => ref.ref(shape, v)),
  );

describe('core helpers', () => {
  it('size, ravel / unravel, strides', () => {
    expect(ref.size([])).toBe(1);
    expect(ref.size([2, 0, 3])).toBe(0);
    expect(ref.strides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(ref.unravel(17, [2, 3, 4])).toEqual([1, 1, 1]);
    expect(ref.ravel([1, 1, 1], [2, 3, 4])).toBe(17);
    for (let f = 0; f < 24; f++) expect(ref.index(ref.unravel(f, [2, 3, 4]), [2, 3, 4])).toBe(f);
    expect(ref.get(ref.ref([2, 2], [1, 2, 3, 4]), [1, 0])).toBe(3);
    expect(() => ref.ref([2, 2], [1, 2, 3])).toThrow();
  });

  it('ref copies its data', () => {
    const src = [1, 2];
    const x = ref.ref([2], src);
    src[0] = 9;
    expect(arr(x)).toEqual([1, 2]);
  });

  it('broadcast shapes align on the right and reject mismatches', () => {
    expect(ref.broadcastShapes([2, 1, 3], [4, 1])).toEqual([2, 4, 3]);
    expect(ref.broadcastShapes([], [3, 2])).toEqual([3, 2]);
    expect(ref.broadcastShapes([5, 1], [1, 0])).toEqual([5, 0]);
    expect(() => ref.broadcastShapes([2], [3])).toThrow();
    expect(() => ref.broadcastShapes([2, 3], [3, 3])).toThrow();
  });

  it('broadcastTo repeats size-1 dims and refuses incompatible targets', () => {
    const x = ref.ref([2, 1], [1, 2]);
    const b = ref.broadcastTo(x, [3, 2, 2]);
    expect(b.shape).toEqual([3, 2, 2]);
    expect(arr(b)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2]);
    expect(() => ref.broadcastTo(x, [2, 3, 3])).toThrow();
    expect(() => ref.broadcastTo(x, [2])).toThrow();
    expect(arr(ref.expand(ref.ref([1, 3], [1, 2, 3]), [2, -1]))).toEqual([1, 2, 3, 1, 2, 3]);
  });
});

describe('elementwise', () => {
  it.each([
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [3, 0.9999779095030014],
    [-1.5, -0.9661051464753108],
    [1e-10, 1.1283791670955126e-10],
    [0.1, 0.1124629160182849],
    [0.75, 0.7111556336535151],
    [0.999, 0.842285270206497],
    [1.0001, 0.8427422995485203],
    [2.5, 0.999593047982555],
    [3.5, 0.9999992569016276],
    [4, 0.9999999845827421],
    [5.5, 0.9999999999999926],
    [0, 0],
    [Infinity, 1],
    [-Infinity, -1],
  ])('erf(%s) = %s to 1e-15', (x, e) => {
    expect(Math.abs(ref.erfScalar(x) - e)).toBeLessThanOrEqual(1e-15);
    expect(Math.abs(ref.erf(r1([x])).data[0] - e)).toBeLessThanOrEqual(1e-15);
  });

  // mpmath at 40 digits (mpmath.erfc), 17 significant digits kept
  it.each([
    [-2, 1.9953222650189527],
    [-0.5, 1.5204998778130465],
    [0, 1.0],
    [0.5, 0.47950012218695346],
    [0.999, 0.15771472979350306],
    [1, 0.15729920705028513],
    [2.5, 0.00040695201744495894],
    [5, 1.5374597944280349e-12],
    [8.5, 2.7623240713337714e-33],
    [10, 2.0884875837625448e-45],
    [14, 3.0372298477503117e-87],
    [20, 5.3958656116079009e-176],
    [26, 5.6631924088561428e-296],
  ])('erfc(%s) = %s to 1e-14 relative (no cancellation in the tail)', (x, e) => {
    expect(Math.abs(ref.erfcScalar(x) - e) / e).toBeLessThanOrEqual(1e-14);
  });

  test.prop([fc.double({ min: -7, max: 7, noNaN: true })])('erf is odd, bounded and its slope is 2/√π·e^(−x²)', (x) => {
    expect(ref.erfScalar(-x)).toBe(-ref.erfScalar(x));
    expect(Math.abs(ref.erfScalar(x))).toBeLessThanOrEqual(1);
    const h = 1e-5;
    const slope = (ref.erfScalar(x + h) - ref.erfScalar(x - h)) / (2 * h);
    expect(Math.abs(slope - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x))).toBeLessThan(1e-8);
  });

  it('activations at hand-computed points', () => {
    close(arr(ref.geluErf(r1([0, 1, -1]))), [0, 0.8413447460685429, 0.8413447460685429 - 1], 1e-15);
    close(arr(ref.geluTanh(r1([0, 1, -2]))), [0, 0.8411919906082768, -0.04540230591222498], 1e-15);
    close(arr(ref.sigmoid(r1([0, Math.log(3), -1000]))), [0.5, 0.75, 0], 1e-15);
    close(arr(ref.silu(r1([0, Math.log(3)]))), [0, 0.75 * Math.log(3)], 1e-15);
    expect(arr(ref.relu(r1([-2, 0, 3])))).toEqual([0, 0, 3]);
    expect(arr(ref.sign(r1([-2, 0, 3])))).toEqual([-1, 0, 1]);
    expect(arr(ref.square(r1([-3])))).toEqual([9]);
    expect(arr(ref.reciprocal(r1([4])))).toEqual([0.25]);
    expect(arr(ref.rsqrt(r1([4])))).toEqual([0.5]);
    expect(arr(ref.neg(r1([2])))).toEqual([-2]);
    expect(arr(ref.abs(r1([-2])))).toEqual([2]);
    expect(arr(ref.clamp(r1([-3, 0.2, 7]), -1, 0.5))).toEqual([-1, 0.2, 0.5]);
  });

  it('binary ops broadcast ([2,1] with [3]) and comparisons give 1/0', () => {
    const a = ref.ref([2, 1], [1, 2]);
    const b = ref.ref([3], [1, 2, 3]);
    const s = ref.add(a, b);
    expect(s.shape).toEqual([2, 3]);
    expect(arr(s)).toEqual([2, 3, 4, 3, 4, 5]);
    expect(arr(ref.sub(a, b))).toEqual([0, -1, -2, 1, 0, -1]);
    expect(arr(ref.mul(a, b))).toEqual([1, 2, 3, 2, 4, 6]);
    expect(arr(ref.div(a, b))).toEqual([1, 1 / 2, 1 / 3, 2, 1, 2 / 3]);
    expect(arr(ref.pow(a, b))).toEqual([1, 1, 1, 2, 4, 8]);
    expect(arr(ref.maximum(a, b))).toEqual([1, 2, 3, 2, 2, 3]);
    expect(arr(ref.minimum(a, b))).toEqual([1, 1, 1, 1, 2, 2]);
    expect(arr(ref.eq(a, b))).toEqual([1, 0, 0, 0, 1, 0]);
    expect(arr(ref.ne(a, b))).toEqual([0, 1, 1, 1, 0, 1]);
    expect(arr(ref.lt(a, b))).toEqual([0, 1, 1, 0, 0, 1]);
    expect(arr(ref.le(a, b))).toEqual([1, 1, 1, 0, 1, 1]);
    expect(arr(ref.gt(a, b))).toEqual([0, 0, 0, 1, 0, 0]);
    expect(arr(ref.ge(a, b))).toEqual([1, 0, 0, 1, 1, 0]);
    expect(() => ref.add(ref.ref([2], [1, 2]), b)).toThrow();
  });

  it('where, maskedFill, mseLoss, dropoutWithMask', () => {
    const cond = ref.ref([2, 1], [1, 0]);
    const w = ref.where(cond, ref.ref([3], [1, 2, 3]), ref.scalar(-1));
    expect(w.shape).toEqual([2, 3]);
    expect(arr(w)).toEqual([1, 2, 3, -1, -1, -1]);
    expect(arr(ref.maskedFill(ref.ref([2, 2], [1, 2, 3, 4]), ref.ref([2], [0, 1]), 9))).toEqual([1, 9, 3, 9]);
    const mse = ref.mseLoss(r1([1, 2, 3]), r1([1, 0, 0]));
    expect(mse.shape).toEqual([]);
    expect(mse.data[0]).toBeCloseTo(13 / 3, 14);
    expect(arr(ref.dropoutWithMask(r1([1, 2, 3, 4]), r1([1, 0, 1, 0]), 0.5))).toEqual([2, 0, 6, 0]);
  });
});

describe('reductions', () => {
  const x = ref.ref([2, 3], [1, 5, 3, 4, 2, 6]);

  it('sum / mean / max / min / prod over axes, with and without keepdim', () => {
    expect(ref.sum(x).shape).toEqual([]);
    expect(arr(ref.sum(x))).toEqual([21]);
    expect(arr(ref.sum(x, [0]))).toEqual([5, 7, 9]);
    expect(ref.sum(x, [-1], true).shape).toEqual([2, 1]);
    expect(arr(ref.sum(x, [-1], true))).toEqual([9, 12]);
    expect(ref.sum(x, [0, 1], true).shape).toEqual([1, 1]);
    expect(arr(ref.mean(x, [1]))).toEqual([3, 4]);
    expect(arr(ref.max(x, [1]))).toEqual([5, 6]);
    expect(arr(ref.min(x, [0]))).toEqual([1, 2, 3]);
    expect(arr(ref.prod(x, [1]))).toEqual([15, 48]);
    expect(arr(ref.sum(ref.ref([2, 0], []), [1]))).toEqual([0, 0]);
  });

  it('variance uses N − correction', () => {
    const v = r1([1, 2, 3, 4]);
    expect(ref.variance(v).data[0]).toBeCloseTo(5 / 3, 14);
    expect(ref.variance(v, undefined, false, 0).data[0]).toBeCloseTo(1.25, 14);
    expect(arr(ref.variance(x, [1], true, 0)).map((t) => +t.toFixed(12))).toEqual([+(8 / 3).toFixed(12), +(8 / 3).toFixed(12)]);
  });

  it('argmax / argmin pick the first extremum', () => {
    const t = ref.ref([2, 4], [1, 3, 3, 0, 2, 2, 0, 0]);
    expect(arr(ref.argmax(t, 1))).toEqual([1, 0]);
    expect(arr(ref.argmin(t, -1))).toEqual([3, 2]);
    expect(arr(ref.argmax(t, 0))).toEqual([1, 0, 0, 0]);
    expect(ref.argmax(t, 1, true).shape).toEqual([2, 1]);
  });

  test.prop([refArb])('sum over all axes equals the sum over each axis in turn', (t) => {
    let s = t;
    while (s.shape.length > 0) s = ref.sum(s, [0]);
    expect(Math.abs(s.data[0] - ref.sum(t).data[0])).toBeLessThan(1e-10);
  });
});

describe('matmul', () => {
  const a = ref.ref([2, 3], [1, 2, 3, 4, 5, 6]);
  const b = ref.ref([3, 2], [7, 8, 9, 10, 11, 12]);

  it('2×3 by 3×2, by hand', () => {
    const c = ref.matmul(a, b);
    expect(c.shape).toEqual([2, 2]);
    expect(arr(c)).toEqual([58, 64, 139, 154]);
  });

  it('1-D operands are promoted and the extra dim squeezed, like torch', () => {
    const v = r1([1, 2, 3]);
    const vb = ref.matmul(v, b);
    expect(vb.shape).toEqual([2]);
    expect(arr(vb)).toEqual([58, 64]);
    const av = ref.matmul(a, v);
    expect(av.shape).toEqual([2]);
    expect(arr(av)).toEqual([14, 32]);
    const vv = ref.matmul(v, v);
    expect(vv.shape).toEqual([]);
    expect(arr(vv)).toEqual([14]);
    const batchedRight = ref.stack([b, b], 0);
    expect(ref.matmul(v, batchedRight).shape).toEqual([2, 2]);
    expect(() => ref.matmul(a, a)).toThrow();
  });

  it('batch dims broadcast', () => {
    const left = ref.stack([a, ref.mul(a, ref.scalar(2))], 0); // [2, 2, 3]
    const c = ref.matmul(ref.unsqueeze(left, 1), ref.stack([b, b, b], 0)); // [2,1,2,3] @ [3,3,2]
    expect(c.shape).toEqual([2, 3, 2, 2]);
    expect(arr(ref.slice(ref.slice(c, 0, 1, 2), 1, 2, 3))).toEqual([116, 128, 278, 308]);
  });

  test.prop([fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer()])(
    '(AB)ᵀ = BᵀAᵀ',
    (m, k, n, seed) => {
      const gen = (count: number, s: number) => Array.from({ length: count }, (_, i) => Math.sin(s + i * 1.3));
      const A = ref.ref([m, k], gen(m * k, seed));
      const B = ref.ref([k, n], gen(k * n, seed + 7));
      close(arr(ref.transpose(ref.matmul(A, B), 0, 1)), arr(ref.matmul(ref.transpose(B, 0, 1), ref.transpose(A, 0, 1))), 1e-12);
    },
  );
});

describe('nn', () => {
  test.prop([refArb, fc.integer({ min: -3, max: 2 })])('softmax lanes sum to one; logSoftmax = log softmax', (x, a) => {
    const ax = ((a % x.shape.length) + x.shape.length) % x.shape.length;
    const s = ref.softmax(x, ax);
    const sums = ref.sum(s, [ax]);
    for (const t of sums.data) expect(Math.abs(t - 1)).toBeLessThan(1e-12);
    close(arr(ref.logSoftmax(x, ax)), arr(ref.log(s)), 1e-12);
  });

  it('softmax is stable for huge logits', () => {
    close(arr(ref.softmax(ref.ref([1, 2], [1000, 1000]), -1)), [0.5, 0.5], 1e-15);
    close(arr(ref.logSoftmax(ref.ref([2], [1000, 0]), 0)), [0, -1000], 1e-12);
    close(arr(ref.softmax(ref.ref([2, 2], [0, Math.log(3), 1, 1]), 1)), [0.25, 0.75, 0.5, 0.5], 1e-15);
  });

  it('layerNorm normalises the trailing dims (biased variance), then scales and shifts', () => {
    // Rows [1, 3] and [2, 6] both normalise to [−1, 1] (biased variance 1 and 4), then ·[2, 1] + [0, 10].
    const y = ref.layerNorm(ref.ref([2, 2], [1, 3, 2, 6]), 1, ref.ref([2], [2, 1]), ref.ref([2], [0, 10]), 0);
    close(arr(y), [-2, 11, -2, 11], 1e-15);
    // Over both dims of [[1, 3], [0, 0]]: mean 1, biased variance (0 + 4 + 1 + 1)/4 = 1.5.
    const z = ref.layerNorm(ref.ref([2, 2], [1, 3, 0, 0]), 2, undefined, undefined, 1e-5);
    const sd = Math.sqrt(1.5 + 1e-5);
    close(arr(z), [0, 2 / sd, -1 / sd, -1 / sd], 1e-15);
  });

  test.prop([refArb])('layerNorm over the last dim gives mean 0 and biased variance 1 (eps 0)', (x) => {
    const n = x.shape[x.shape.length - 1];
    const spread = ref.sub(ref.max(x, [-1]), ref.min(x, [-1]));
    if (n < 2 || spread.data.some((s) => s < 1e-3)) return;
    const y = ref.layerNorm(x, 1, undefined, undefined, 0);
    for (const m of ref.mean(y, [-1]).data) expect(Math.abs(m)).toBeLessThan(1e-10);
    for (const v of ref.variance(y, [-1], false, 0).data) expect(Math.abs(v - 1)).toBeLessThan(1e-10);
  });

  it('rmsNorm over the last dim', () => {
    const y = ref.rmsNorm(ref.ref([1, 2], [3, 4]), ref.ref([2], [1, 2]), 0);
    const rms = Math.sqrt(12.5);
    close(arr(y), [3 / rms, 8 / rms], 1e-15);
  });

  it('embedding picks rows for ids of any shape', () => {
    const table = ref.ref([3, 2], [0, 1, 10, 11, 20, 21]);
    const e = ref.embedding(table, [2, 0]);
    expect(e.shape).toEqual([2, 2]);
    expect(arr(e)).toEqual([20, 21, 0, 1]);
    const e2 = ref.embedding(table, ref.ref([2, 2], [1, 1, 0, 2]));
    expect(e2.shape).toEqual([2, 2, 2]);
    expect(arr(e2)).toEqual([10, 11, 10, 11, 0, 1, 20, 21]);
    expect(() => ref.embedding(table, [3])).toThrow();
  });

  it('cross-entropy of a tiny example, by hand', () => {
    const logits = ref.ref([2, 2], [0, 0, Math.log(3), 0]);
    // Row 0 (target 1): p = 1/2 → ln 2. Row 1 (target 0): p = 3/4 → −ln(3/4).
    const l0 = Math.log(2);
    const l1 = -Math.log(0.75);
    expect(ref.crossEntropy(logits, [1, 0]).shape).toEqual([]);
    expect(ref.crossEntropy(logits, [1, 0]).data[0]).toBeCloseTo((l0 + l1) / 2, 14);
    expect(ref.crossEntropy(logits, [1, 0], { reduction: 'sum' }).data[0]).toBeCloseTo(l0 + l1, 14);
    const none = ref.crossEntropy(logits, [1, 0], { reduction: 'none' });
    expect(none.shape).toEqual([2]);
    close(arr(none), [l0, l1], 1e-15);
    // An ignored row gives 0 and leaves the mean's count.
    expect(ref.crossEntropy(logits, [1, -100]).data[0]).toBeCloseTo(l0, 14);
    close(arr(ref.crossEntropy(logits, [7, 0], { ignoreIndex: 7, reduction: 'none' })), [0, l1], 1e-15);
    // Label smoothing ε = 0.2, C = 2: row 1 is 0.8·(−ln ¾) + 0.1·(−ln ¾ − ln ¼).
    const smooth1 = 0.8 * l1 + 0.1 * (-Math.log(0.75) - Math.log(0.25));
    const smooth0 = 0.8 * l0 + 0.1 * (2 * l0);
    close(arr(ref.crossEntropy(logits, [1, 0], { labelSmoothing: 0.2, reduction: 'none' })), [smooth0, smooth1], 1e-15);
    expect(ref.crossEntropy(logits, [-100, 0], { labelSmoothing: 0.2 }).data[0]).toBeCloseTo(smooth1, 14);
    expect(() => ref.crossEntropy(logits, [2, 0])).toThrow();
  });
});

describe('shape ops', () => {
  const x = ref.ref([2, 3], [1, 2, 3, 4, 5, 6]);

  it('transpose, permute, reshape, squeeze, unsqueeze', () => {
    const t = ref.transpose(x, 0, -1);
    expect(t.shape).toEqual([3, 2]);
    expect(arr(t)).toEqual([1, 4, 2, 5, 3, 6]);
    const y = ref.ref([2, 3, 4], Array.from({ length: 24 }, (_, i) => i));
    const p = ref.permute(y, [2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    expect(ref.get(p, [3, 1, 2])).toBe(ref.get(y, [1, 2, 3]));
    expect(ref.reshape(x, [3, -1]).shape).toEqual([3, 2]);
    expect(() => ref.reshape(x, [4, 2])).toThrow();
    expect(ref.squeeze(ref.ref([1, 2, 1], [1, 2])).shape).toEqual([2]);
    expect(ref.squeeze(ref.ref([1, 2, 1], [1, 2]), -1).shape).toEqual([1, 2]);
    expect(ref.squeeze(x, 0).shape).toEqual([2, 3]);
    expect(ref.unsqueeze(x, -1).shape).toEqual([2, 3, 1]);
    expect(ref.unsqueeze(x, 1).shape).toEqual([2, 1, 3]);
  });

  it('slice, concat, stack, split', () => {
    expect(arr(ref.slice(x, 1, 1, 3))).toEqual([2, 3, 5, 6]);
    expect(arr(ref.slice(x, 1, -2, 3))).toEqual([2, 3, 5, 6]);
    expect(() => ref.slice(x, 1, 2, 4)).toThrow();
    const c = ref.concat([x, ref.ref([2, 1], [7, 8])], 1);
    expect(c.shape).toEqual([2, 4]);
    expect(arr(c)).toEqual([1, 2, 3, 7, 4, 5, 6, 8]);
    const s = ref.stack([x, x], 1);
    expect(s.shape).toEqual([2, 2, 3]);
    expect(arr(s)).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
    expect(ref.split(x, 2, 1).map((p) => p.shape)).toEqual([
      [2, 2],
      [2, 1],
    ]);
    expect(ref.split(x, [1, 2], -1).map(arr)).toEqual([
      [1, 4],
      [2, 3, 5, 6],
    ]);
    expect(() => ref.split(x, [1, 1], 1)).toThrow();
  });

  test.prop([refArb, fc.nat(), fc.integer({ min: 1, max: 3 })])('concat of split is the identity', (t, a, chunk) => {
    const ax = a % t.shape.length;
    const back = ref.concat(ref.split(t, chunk, ax), ax);
    expect(back.shape).toEqual(t.shape);
    expect(arr(back)).toEqual(arr(t));
  });

  test.prop([refArb.chain((t) => fc.tuple(fc.constant(t), fc.shuffledSubarray(t.shape.map((_, i) => i), { minLength: t.shape.length })))])(
    'permute then its inverse is the identity',
    ([t, perm]) => {
      const inv = perm.map((_, i) => perm.indexOf(i));
      const back = ref.permute(ref.permute(t, perm), inv);
      expect(back.shape).toEqual(t.shape);
      expect(arr(back)).toEqual(arr(t));
    },
  );

  it('tril / triu on the last two dims, batched', () => {
    const m = ref.ref([3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(arr(ref.tril(m))).toEqual([1, 0, 0, 4, 5, 0, 7, 8, 9]);
    expect(arr(ref.triu(m))).toEqual([1, 2, 3, 0, 5, 6, 0, 0, 9]);
    expect(arr(ref.tril(m, -1))).toEqual([0, 0, 0, 4, 0, 0, 7, 8, 0]);
    expect(arr(ref.triu(m, 1))).toEqual([0, 2, 3, 0, 0, 6, 0, 0, 0]);
    const b = ref.stack([m, m], 0);
    expect(arr(ref.tril(b))).toEqual([...arr(ref.tril(m)), ...arr(ref.tril(m))]);
  });

  it('gatherFlat, scatterFlat, topkAbs', () => {
    expect(arr(ref.gatherFlat(x, [5, 0, 5]))).toEqual([6, 1, 6]);
    const added = ref.scatterFlat(x, [0, 0, 5], r1([10, 20, 1]), 'add');
    expect(added.shape).toEqual([2, 3]);
    expect(arr(added)).toEqual([31, 2, 3, 4, 5, 7]);
    expect(arr(ref.scatterFlat(x, [1, 4], [0, 0], 'set'))).toEqual([1, 0, 3, 4, 0, 6]);
    expect(arr(x)).toEqual([1, 2, 3, 4, 5, 6]);
    const t = ref.topkAbs(r1([1, -3, 2, 3, -0.5, -2]), 4);
    expect(t.indices).toEqual([1, 3, 2, 5]);
    expect(t.values).toEqual([-3, 3, 2, -2]);
  });
});

describe('numericGrad', () => {
  it('of Σx² is 2x, without touching the inputs', () => {
    const x = ref.ref([3], [1, -2, 0.5]);
    const [g] = ref.numericGrad(([t]) => t.data.reduce((a, b) => a + b * b, 0), [x]);
    expect(g.shape).toEqual([3]);
    g.data.forEach((v, i) => expect(v).toBeCloseTo(2 * x.data[i], 8));
    expect(arr(x)).toEqual([1, -2, 0.5]);
  });

  it('of Σ(A·B) gives each input the other one summed appropriately', () => {
    const a = ref.ref([2, 2], [1, 2, 3, 4]);
    const b = ref.ref([2, 2], [5, 6, 7, 8]);
    const [ga, gb] = ref.numericGrad(([p, q]) => ref.sum(ref.matmul(p, q)).data[0], [a, b]);
    // ∂/∂A_ik Σ_ij A_ik B_kj = Σ_j B_kj; ∂/∂B_kj = Σ_i A_ik.
    close(arr(ga), [11, 15, 11, 15], 1e-6);
    close(arr(gb), [4, 4, 6, 6], 1e-6);
  });
});
