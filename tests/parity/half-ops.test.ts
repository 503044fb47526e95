import { fc, test } from '@fast-check/vitest';
import * as T from '@siftjs/tensor';
import { DTypeNotImplementedError, type HalfDType, type Tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { axesArb, broadcastPairArb, refArb, refsArb, shapeArb, type ValueOptions, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { HALVES, checkHalf, expectWithinHalf, halfTensor, roundHalf, toHalfRef, UNIT_ROUNDOFF, cpuHalf, skipOnOtherHalfBackends } from '../support/half.js';
import { read } from '../support/read.js';

/**
 * Every op in float16 and bfloat16 against its float64 definition, on random shapes (tests/support/half.ts has the
 * bound: k roundings of the format's unit roundoff, plus float32 arithmetic). Runs where the backend stores half
 * tensors (the CPU's projects: cpu, cpu-ts, cpu-wasm, cpu-primitives); tests/parity/half-storage.test.ts checks the
 * others refuse them.
 */

const RUNS = { numRuns: 12 };

interface UnaryCase {
  name: string;
  ours: (x: Tensor) => Tensor;
  ref: (x: ref.Ref) => ref.Ref;
  values?: ValueOptions;
}

const unaryCases: UnaryCase[] = [
  { name: 'neg', ours: (x) => x.neg(), ref: ref.neg },
  { name: 'exp', ours: (x) => x.exp(), ref: ref.exp },
  { name: 'log', ours: (x) => x.log(), ref: ref.log, values: { min: 0.05, max: 5 } },
  { name: 'sqrt', ours: (x) => x.sqrt(), ref: ref.sqrt, values: { min: 0.05, max: 5 } },
  { name: 'rsqrt', ours: (x) => x.rsqrt(), ref: ref.rsqrt, values: { min: 0.05, max: 5 } },
  { name: 'abs', ours: (x) => x.abs(), ref: ref.abs },
  { name: 'sin', ours: (x) => x.sin(), ref: ref.sin },
  { name: 'cos', ours: (x) => x.cos(), ref: ref.cos },
  { name: 'tanh', ours: (x) => x.tanh(), ref: ref.tanh },
  { name: 'sigmoid', ours: (x) => x.sigmoid(), ref: ref.sigmoid },
  { name: 'relu', ours: (x) => x.relu(), ref: ref.relu },
  { name: 'erf', ours: (x) => x.erf(), ref: ref.erf },
  { name: 'gelu (erf)', ours: (x) => x.gelu(), ref: ref.geluErf },
  { name: 'gelu (tanh)', ours: (x) => x.gelu('tanh'), ref: ref.geluTanh },
  { name: 'silu', ours: (x) => x.silu(), ref: ref.silu },
  { name: 'square', ours: (x) => x.square(), ref: ref.square },
  { name: 'reciprocal', ours: (x) => x.reciprocal(), ref: ref.reciprocal, values: { awayFrom: [0], gap: 0.2 } },
  { name: 'sign', ours: (x) => x.sign(), ref: ref.sign },
  { name: 'floor', ours: (x) => x.floor(), ref: (x) => ref.map(x, Math.floor) },
];

const binaryCases = [
  { name: 'add', ours: T.add, ref: ref.add, values: {} },
  { name: 'sub', ours: T.sub, ref: ref.sub, values: {} },
  { name: 'mul', ours: T.mul, ref: ref.mul, values: {} },
  { name: 'div', ours: T.div, ref: ref.div, values: { awayFrom: [0], gap: 0.2 } },
  { name: 'pow', ours: T.pow, ref: ref.pow, values: { min: 0.1, max: 3 } },
  { name: 'maximum', ours: T.maximum, ref: ref.maximum, values: {} },
  { name: 'minimum', ours: T.minimum, ref: ref.minimum, values: {} },
];

/** Σ|a||b|: the size of the terms a product's float32 accumulation rounds. */
const absMatmul = ([a, b]: ref.Ref[]) => ref.matmul(ref.abs(a), ref.abs(b));

skipOnOtherHalfBackends();

describe.each(backendsUnderTest().filter(cpuHalf))('half-precision ops on $name', (backend) => {
  beforeAll(() => backend.start());

  describe.each(HALVES)('%s', (dtype) => {
    for (const c of unaryCases) {
      test.prop([shapeArb().chain((s) => refArb(s, c.values))], RUNS)(`${c.name}: one rounding of the float64 value`, (x) =>
        checkHalf(dtype, ([t]) => c.ours(t), ([r]) => c.ref(r), [x]),
      );
    }

    for (const c of binaryCases) {
      const input = broadcastPairArb().chain(([sa, sb]) => fc.tuple(refArb(sa, c.values), refArb(sb, c.values)));
      test.prop([input], RUNS)(`${c.name} (broadcasting): one rounding of the float64 value`, ([a, b]) =>
        checkHalf(dtype, ([x, y]) => c.ours(x, y), ([x, y]) => c.ref(ref.broadcastTo(x, ref.broadcastShapes(x.shape, y.shape)), ref.broadcastTo(y, ref.broadcastShapes(x.shape, y.shape))), [a, b]),
      );
    }

    test.prop([shapeArb().chain((s) => refsArb([s, s]))], RUNS)('a half operand with float32 computes in float32; with int32 or a number, in the half dtype', async ([a, b]) => {
      const [ra, rb] = [toHalfRef(a, dtype), ref.map(b, Math.fround)];
      const got = await read(() => {
        const x = halfTensor(ra, dtype);
        const y = T.tensor(rb.data, { shape: rb.shape, dtype: 'float32' });
        const i = T.tensor(ref.map(b, Math.round).data, { shape: b.shape, dtype: 'int32' });
        const mixed = x.add(y);
        const withInt = x.mul(i);
        const withScalar = x.mul(3);
        expect([mixed.dtype, withInt.dtype, withScalar.dtype]).toEqual(['float32', dtype, dtype]);
        return { mixed, withInt, withScalar };
      });
      expectClose(got.mixed, ref.add(ra, rb).data.map(Math.fround), 0, 0, 'half + float32 in float32');
      expectWithinHalf(got.withInt, ref.mul(ra, ref.map(b, Math.round)).data, dtype, 1, null, 'half × int32');
      expectWithinHalf(got.withScalar, ref.map(ra, (v) => 3 * v).data, dtype, 1, null, 'half × 3');
    });

    test.prop([shapeArb().chain((s) => refsArb([s, s]))], RUNS)('comparisons, where, maskedFill and isnan are exact on the half values', async ([a, b]) => {
      const [ra, rb] = [toHalfRef(a, dtype), toHalfRef(b, dtype)];
      const got = await read(() => {
        const [x, y] = [halfTensor(ra, dtype), halfTensor(rb, dtype)];
        const lt = x.lt(y);
        return { lt, ge: x.ge(y), eq: x.eq(x), where: T.where(lt, x, y), filled: x.maskedFill(lt, 0.1), nan: x.isnan() };
      });
      const lt = ref.lt(ra, rb);
      expect(got.lt).toEqual(Array.from(lt.data));
      expect(got.ge).toEqual(Array.from(ref.ge(ra, rb).data));
      expect(got.eq).toEqual(Array.from(ra.data, () => 1));
      expect(got.where).toEqual(Array.from(ref.where(lt, ra, rb).data));
      expect(got.filled).toEqual(Array.from(ref.maskedFill(ra, lt, roundHalf(0.1, dtype)).data));
      expect(got.nan).toEqual(Array.from(ra.data, () => 0));
    });

    test.prop([shapeArb().chain((s) => refArb(s))], RUNS)('clamp is exact, to the bounds rounded to the format', (x) =>
      checkHalf(dtype, ([t]) => t.clamp(-0.7, 1.3), ([r]) => ref.clamp(r, roundHalf(-0.7, dtype), roundHalf(1.3, dtype)), [x], { k: 0 }),
    );

    const reduceInput = shapeArb({ minRank: 1 }).chain((s) => fc.tuple(refArb(s), axesArb(s.length)));
    test.prop([reduceInput], RUNS)('sum: float32 accumulation, one rounding', ([x, [axes, keep]]) =>
      checkHalf(dtype, ([t]) => t.sum(axes, keep), ([r]) => ref.sum(r, axes, keep), [x], { scale: ([r]) => ref.sum(ref.abs(r), axes, keep) }),
    );
    test.prop([reduceInput], RUNS)('mean: the sum and the division, two roundings', ([x, [axes, keep]]) =>
      checkHalf(dtype, ([t]) => t.mean(axes, keep), ([r]) => ref.mean(r, axes, keep), [x], { k: 2, scale: ([r]) => ref.mean(ref.abs(r), axes, keep) }),
    );
    const nonEmptyReduceInput = shapeArb({ minRank: 1, minDim: 1 }).chain((s) => fc.tuple(refArb(s), axesArb(s.length)));
    test.prop([nonEmptyReduceInput], RUNS)('max and min are exact', async ([x, [axes, keep]]) => {
      await checkHalf(dtype, ([t]) => t.max(axes, keep), ([r]) => ref.max(r, axes, keep), [x], { k: 0 });
      await checkHalf(dtype, ([t]) => t.min(axes, keep), ([r]) => ref.min(r, axes, keep), [x], { k: 0 });
    });
    test.prop([shapeArb({ minRank: 1, minDim: 1 }).chain((s) => fc.tuple(refArb(s), fc.integer({ min: 0, max: s.length - 1 })))], RUNS)(
      'argmax and argmin give int32 indices of the half values (first of equals)',
      async ([x, ax]) => {
        await checkHalf(dtype, ([t]) => t.argmax(ax), ([r]) => ref.argmax(r, ax), [x], { k: 0, outDtype: 'int32' });
        await checkHalf(dtype, ([t]) => t.argmin(ax), ([r]) => ref.argmin(r, ax), [x], { k: 0, outDtype: 'int32' });
      },
    );
    test.prop([shapeArb({ minRank: 1, minDim: 2 }).chain((s) => refArb(s))], RUNS)('variance: composed of mean, subtraction, square and sum in the format', (x) =>
      checkHalf(dtype, ([t]) => t.var(), ([r]) => ref.variance(r), [x], { k: 8, scale: ([r]) => ref.mean(ref.square(r)) }),
    );

    const matmulInput = fc
      .tuple(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 5 }))
      .chain(([batch, m, k, n]) => refsArb([[...batch, m, k], [k, n]]));
    test.prop([matmulInput], RUNS)('matmul of two half operands: float32 accumulation, one rounding', ([a, b]) =>
      checkHalf(dtype, ([x, w]) => x.matmul(w), ([x, w]) => ref.matmul(x, w), [a, b], { scale: absMatmul }),
    );
    test.prop([matmulInput], RUNS)('matmul of float32 activations by a half weight (also transposed): float32, not rounded to the format', async ([a, b]) => {
      const [ra, rb] = [ref.map(a, Math.fround), toHalfRef(b, dtype)];
      const got = await read(() => {
        const x = T.tensor(ra.data, { shape: ra.shape, dtype: 'float32' });
        const w = halfTensor(rb, dtype);
        const wt = halfTensor(ref.transpose(rb, 0, 1), dtype); // stored [n, k], used as wtᵀ, as a Linear weight
        const y = x.matmul(w);
        const yt = x.matmul(wt.T);
        expect([y.dtype, yt.dtype]).toEqual(['float32', 'float32']);
        return { y, yt };
      });
      const want = ref.matmul(ra, rb);
      const scale = absMatmul([ra, rb]).data;
      for (const g of [got.y, got.yt]) {
        want.data.forEach((e, i) => expect(Math.abs(g[i] - e), `element ${i}`).toBeLessThanOrEqual(2 ** -20 * scale[i] + 1e-30));
      }
    });

    const rowsInput = shapeArb({ minRank: 1, minDim: 1 }).chain((s) => refArb(s));
    test.prop([rowsInput], RUNS)('softmax and logSoftmax: one rounding', async (x) => {
      await checkHalf(dtype, ([t]) => t.softmax(-1), ([r]) => ref.softmax(r, -1), [x]);
      await checkHalf(dtype, ([t]) => t.logSoftmax(-1), ([r]) => ref.logSoftmax(r, -1), [x]);
    });

    const normInput = shapeArb({ minRank: 1, minDim: 1 }).chain((s) => refsArb([s, [s[s.length - 1]], [s[s.length - 1]]]));
    test.prop([normInput], RUNS)('layerNorm and rmsNorm with half weights: one rounding', async ([x, w, b]) => {
      await checkHalf(dtype, ([t, tw, tb]) => T.layerNorm(t, [t.shape[t.rank - 1]], tw, tb), ([r, rw, rb]) => ref.layerNorm(r, 1, rw, rb, 1e-5), [x, w, b], { k: 2 });
      await checkHalf(dtype, ([t, tw]) => T.rmsNorm(t, tw), ([r, rw]) => ref.rmsNorm(r, rw, 1e-6), [x, w], { k: 2 });
    });

    test.prop([fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 })).chain(([v, d]) => fc.tuple(refArb([v, d]), fc.array(fc.integer({ min: 0, max: v - 1 }), { maxLength: 7 })))], RUNS)(
      'embedding, gatherFlat, scatterFlat (set) and topkAbs move half values exactly',
      async ([table, ids]) => {
        const rt = toHalfRef(table, dtype);
        const got = await read(() => {
          const t = halfTensor(rt, dtype);
          const idx = T.tensor(ids, { dtype: 'int32' });
          const rows = T.embedding(t, idx);
          const flat = t.gatherFlat(idx);
          const set = T.scatterFlat(t, T.tensor([...new Set(ids)], { dtype: 'int32' }), T.full([new Set(ids).size], 0.3, { dtype }));
          const top = T.topkAbs(t, Math.min(3, t.size));
          expect([rows.dtype, flat.dtype, set.dtype, top.values.dtype]).toEqual([dtype, dtype, dtype, dtype]);
          return { rows, flat, set, values: top.values, indices: top.indices };
        });
        expect(got.rows).toEqual(Array.from(ref.embedding(rt, ids).data));
        expect(got.flat).toEqual(ids.map((i) => rt.data[i]));
        expect(got.set).toEqual(Array.from(ref.scatterFlat(rt, [...new Set(ids)], [...new Set(ids)].map(() => roundHalf(0.3, dtype)), 'set').data));
        const top = ref.topkAbs(rt, Math.min(3, rt.data.length));
        expect(got.indices).toEqual(top.indices);
        expect(got.values).toEqual(top.values);
      },
    );

    test.prop([shapeArb({ minRank: 1, minDim: 1 }).chain((s) => fc.tuple(refArb(s), refArb(s)))], RUNS)('scatterFlat (add): one rounding of each sum', ([x, v]) => {
      const idx = Array.from({ length: x.data.length }, (_, i) => i).reverse();
      return checkHalf(dtype, ([t, s]) => T.scatterFlat(t, T.tensor(idx, { dtype: 'int32' }), s.flatten(), 'add'), ([r, s]) => ref.scatterFlat(r, idx, s, 'add'), [x, v]);
    });

    test.prop([shapeArb({ minRank: 2, maxRank: 3, minDim: 1 }).chain((s) => refsArb([s, s]))], RUNS)('views, contiguous, concat, stack, split, tril and triu are exact', async ([a, b]) => {
      const [ra, rb] = [toHalfRef(a, dtype), toHalfRef(b, dtype)];
      const got = await read(() => {
        const [x, y] = [halfTensor(ra, dtype), halfTensor(rb, dtype)];
        return { t: x.transpose(0, 1).contiguous(), cat: T.concat([x, y], 0), stack: T.stack([x, y], 1), first: x.split(1, 0)[0], tril: x.tril(), triu: x.triu(1) };
      });
      expect(got.t).toEqual(Array.from(ref.transpose(ra, 0, 1).data));
      expect(got.cat).toEqual(Array.from(ref.concat([ra, rb], 0).data));
      expect(got.stack).toEqual(Array.from(ref.stack([ra, rb], 1).data));
      expect(got.first).toEqual(Array.from(ref.split(ra, 1, 0)[0].data));
      const [rows, cols] = ra.shape.slice(-2);
      const tri = (keep: (i: number, j: number) => boolean) => ra.data.map((v, f) => (keep(Math.floor(f / cols) % rows, f % cols) ? v : 0));
      expect(got.tril).toEqual(Array.from(tri((i, j) => j <= i)));
      expect(got.triu).toEqual(Array.from(tri((i, j) => j >= i + 1)));
    });

    test.prop([fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 6 })).chain(([n, c]) => fc.tuple(refArb([n, c]), fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: n, maxLength: n })))], RUNS)(
      'crossEntropy of half logits: logSoftmax, the pick and the mean, each rounded',
      ([logits, targets]) =>
        checkHalf(dtype, ([l]) => T.crossEntropy(l, T.tensor(targets, { dtype: 'int32' })), ([r]) => ref.crossEntropy(r, targets), [logits], { k: 4, scale: ([r]) => ref.crossEntropy(ref.map(r, Math.abs), targets) }),
    );

    test.prop([shapeArb({ minRank: 1, minDim: 1 }).chain((s) => refArb(s))], RUNS)('dropout keeps the float32 mask of the same seed and scales in the format', async (x) => {
      const rx = toHalfRef(x, dtype);
      const got = await read(() => {
        T.manualSeed(7);
        const h = T.dropout(halfTensor(rx, dtype), 0.3);
        T.manualSeed(7);
        const f = T.dropout(T.ones(rx.shape), 0.3);
        return { h, kept: f.ne(0) };
      });
      const scale = roundHalf(1 / 0.7, dtype);
      expectWithinHalf(got.h, rx.data.map((v, i) => (got.kept[i] ? v * scale : 0)), dtype, 1, null, 'dropout');
    });

    test.prop([fc.integer({ min: 1, max: 40 }).chain((n) => refsArb([[n], [n], [n], [n]], { min: -1, max: 1 }))], RUNS)(
      'adamwUpdate of a half parameter with half state: the float32 step, each of p, m and v rounded once',
      async ([p, g, m, v]) => {
        const [rp, rg, rm] = [p, g, m].map((r) => toHalfRef(r, dtype));
        const rv = toHalfRef(ref.map(v, (x) => Math.abs(x) + 0.01), dtype);
        const h = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 3 };
        const got = await read(() => {
          const [tp, tg, tm, tv] = [rp, rg, rm, rv].map((r) => halfTensor(r, dtype));
          T.adamwUpdate(tp, tg, tm, tv, h);
          return { p: tp, m: tm, v: tv };
        });
        // PyTorch's AdamW in float64 from the half values
        const bc1 = 1 - h.beta1 ** h.step;
        const bc2 = Math.sqrt(1 - h.beta2 ** h.step);
        const mNew = rm.data.map((mi, i) => h.beta1 * mi + (1 - h.beta1) * rg.data[i]);
        const vNew = rv.data.map((vi, i) => h.beta2 * vi + (1 - h.beta2) * rg.data[i] ** 2);
        const pNew = rp.data.map((pi, i) => pi * (1 - h.lr * h.weightDecay) - ((h.lr / bc1) * mNew[i]) / (Math.sqrt(vNew[i]) / bc2 + h.eps));
        expectWithinHalf(got.m, mNew, dtype, 1, null, 'm');
        expectWithinHalf(got.v, vNew, dtype, 1, null, 'v');
        // the step reads m and v before they are rounded; its size is what p's float32 arithmetic rounds
        expectWithinHalf(got.p, pNew, dtype, 1, rp.data.map((pi) => Math.abs(pi) + h.lr / bc1), 'p');
      },
    );

    test.prop([fc.integer({ min: 2, max: 30 }).chain((n) => fc.tuple(refsArb([[n], [n], [n]], { min: -1, max: 1 }), fc.integer({ min: 1, max: n - 1 })))], RUNS)(
      "adamwIncrement on a half parameter: δ and its moments float32, param[idx] = base + δ rounded once",
      async ([[p, g, d], k]) => {
        const rp = toHalfRef(p, dtype);
        const idx = Array.from({ length: k }, (_, i) => (i * 7) % p.data.length).filter((v, i, a) => a.indexOf(v) === i);
        const base = idx.map((i) => rp.data[i]);
        const grad = idx.map((_, j) => Math.fround(g.data[j]));
        const delta0 = idx.map((_, j) => Math.fround(d.data[j] * 0.01));
        const h = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 };
        const got = await read(() => {
          const param = halfTensor(rp, dtype);
          const f = (xs: number[]) => T.tensor(xs, { dtype: 'float32' });
          const t = { param, indices: T.tensor(idx, { dtype: 'int32' }), base: f(base), delta: f(delta0), grad: f(grad), m: f(idx.map(() => 0)), v: f(idx.map(() => 0)) };
          T.adamwIncrement(t, h);
          return { param, delta: t.delta };
        });
        const want = Array.from(rp.data);
        idx.forEach((at, j) => {
          const mi = (1 - h.beta1) * grad[j];
          const vi = (1 - h.beta2) * grad[j] ** 2;
          const delta = Math.fround(delta0[j] - ((h.lr / (1 - h.beta1)) * mi) / (Math.sqrt(vi) / Math.sqrt(1 - h.beta2) + h.eps));
          expect(Math.abs(got.delta[j] - delta)).toBeLessThanOrEqual(2 ** -22 * Math.abs(delta));
          want[at] = roundHalf(base[j] + got.delta[j], dtype);
        });
        expect(got.param).toEqual(want);
      },
    );

    test.prop([shapeArb({ minRank: 1 }).chain((s) => fc.tuple(refArb(s), weightsArb(s)))], RUNS)(
      'gradients through half ops (exp·tanh, softmax, layerNorm) are half and within the format of finite differences',
      async ([x, w]) => {
        const rx = toHalfRef(x, dtype);
        const rw = toHalfRef(w, dtype);
        const cols = rx.shape[rx.shape.length - 1];
        const cases = [
          { ours: (t: Tensor) => t.exp().mul(t.tanh()), ref: (r: ref.Ref) => ref.mul(ref.exp(r), ref.tanh(r)), k: 8 },
          { ours: (t: Tensor) => t.softmax(-1), ref: (r: ref.Ref) => ref.softmax(r, -1), k: 8 },
          { ours: (t: Tensor) => T.layerNorm(t, [cols]), ref: (r: ref.Ref) => ref.layerNorm(r, 1, undefined, undefined, 1e-5), k: 16 },
        ];
        for (const c of cases) {
          if (cols === 0) continue;
          const numeric = ref.numericGrad((xs) => ref.sum(ref.mul(c.ref(xs[0]), rw)).data[0], [rx])[0];
          const got = await read(() => {
            const t = halfTensor(rx, dtype, true);
            c.ours(t).backward(halfTensor(rw, dtype));
            expect(t.grad!.dtype).toBe(dtype);
            return t.grad!;
          });
          // a gradient is a sum of products rounded several times: bounded against the largest component
          const scale = Math.max(1, ...numeric.data.map(Math.abs));
          numeric.data.forEach((e, i) => expect(Math.abs(got[i] - e), `${dtype} gradient ${i}`).toBeLessThanOrEqual(c.k * UNIT_ROUNDOFF[dtype] * scale));
        }
      },
    );
  });

  test.prop([shapeArb().chain((s) => refsArb([s, s]))], RUNS)('float16 with bfloat16 promotes to float32, computed exactly on the two values', async ([a, b]) => {
    const [ra, rb] = [toHalfRef(a, 'float16'), toHalfRef(b, 'bfloat16')];
    const got = await read(() => {
      const y = halfTensor(ra, 'float16').add(halfTensor(rb, 'bfloat16'));
      expect(y.dtype).toBe('float32');
      return y;
    });
    expectClose(got, ref.add(ra, rb).data.map(Math.fround), 0, 0, 'float16 + bfloat16');
  });
});

describe.each(backendsUnderTest().filter(cpuHalf))('cast between every pair of dtypes on $name', (backend) => {
  beforeAll(() => backend.start());

  const ALL = ['float64', 'float32', 'int32', 'bool', 'float16', 'bfloat16'] as const;
  type D = (typeof ALL)[number];
  /** The value `x` (already a value of `from`) becomes in `to`, by the definitions: IEEE rounding, truncation, non-zero. */
  const convert = (x: number, to: D): number => {
    if (to === 'float64') return x;
    if (to === 'float32') return Math.fround(x);
    if (to === 'int32') return Number.isNaN(x) ? 0 : Math.trunc(x) | 0;
    if (to === 'bool') return x !== 0 ? 1 : 0; // NaN is true, as in PyTorch
    return roundHalf(x, to);
  };
  const EDGES = [0, -0, 1, -1, 0.1, 1 / 3, 1 + 2 ** -11 + 2 ** -40, 1 + 2 ** -8 + 2 ** -40, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 2 ** -133, 1 + 2 ** -11, 1 + 2 ** -8, 65504, 65519.99, 65520, -65536, 3.3961775292304e38, 1e300, Infinity, -Infinity, NaN, 2.5, -2.5, 1e9];
  const isInteger = (d: D) => d === 'int32' || d === 'bool';
  /** What `from` can hold of the sample values (NaN and infinities only in floats; ints within int32). */
  const sample = (from: D, extra: number[]): number[] =>
    [...EDGES, ...extra].filter((v) => !isInteger(from) || (Number.isFinite(v) && Math.abs(v) < 2 ** 31)).map((v) => convert(v, from));

  test.prop([fc.array(fc.double({ min: -7e4, max: 7e4, noNaN: true }), { maxLength: 30 })], { numRuns: 8 })('cast is exact for every pair (rounding, NaN, ±Inf, subnormals, ties)', async (extra) => {
    for (const from of ALL) {
      const xs = sample(from, extra);
      for (const to of ALL) {
        const got = await read(() => T.tensor(xs, { dtype: from }).cast(to));
        const want = xs.map((v) => convert(v, to));
        got.forEach((g, i) => {
          const w = want[i];
          if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) expect.fail(`cast ${from} → ${to} of ${xs[i]}: got ${g}, expected ${w}`);
        });
      }
    }
  });
});

describe.each(backendsUnderTest().filter((b) => !b.half))('half-precision ops on $name (no half storage there yet)', (backend) => {
  beforeAll(() => backend.start());

  it.each(HALVES)('a cast to %s is refused with a DTypeNotImplementedError naming the backend', (dtype) => {
    const x = T.tensor([1, 2]);
    expect(() => x.cast(dtype)).toThrow(DTypeNotImplementedError);
    x.dispose();
  });
});
