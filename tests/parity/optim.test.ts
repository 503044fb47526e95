import { fc, test } from '@fast-check/vitest';
import { adamwIncrement, adamwUpdate, scatterFlatInto, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect } from 'vitest';
import { shapeArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtype, floatDtypes } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { read } from '../support/read.js';

/** AdamW as PyTorch documents it, written out in float64, one element at a time. */
function referenceAdamW(p: number, g: number, m: number, v: number, h: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number }) {
  const p1 = p - h.lr * h.weightDecay * p;
  const m1 = h.beta1 * m + (1 - h.beta1) * g;
  const v1 = h.beta2 * v + (1 - h.beta2) * g * g;
  const mHat = m1 / (1 - h.beta1 ** h.step);
  const vHat = v1 / (1 - h.beta2 ** h.step);
  return { p: p1 - (h.lr * mHat) / (Math.sqrt(vHat) + h.eps), m: m1, v: v1 };
}

const vec = (n: number) => fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n });
const hyper = fc.record({
  lr: fc.double({ min: 1e-4, max: 0.1, noNaN: true }),
  beta1: fc.constantFrom(0.9, 0.8),
  beta2: fc.constantFrom(0.999, 0.95),
  eps: fc.constantFrom(1e-8, 1e-6),
  weightDecay: fc.constantFrom(0, 0.01, 0.1),
  step: fc.integer({ min: 1, max: 50 }),
});

/**
 * Float64 to 1e-12 where the backend has it. Elsewhere the same update in float32 on float32-rounded inputs, against the
 * float64 reference at float32 tolerances.
 */
const tolerance = (dtype: 'float32' | 'float64') => (dtype === 'float64' ? { rtol: 1e-12, atol: 1e-14 } : { rtol: 1e-5, atol: 1e-6 });
const rounding = (dtype: 'float32' | 'float64') => (dtype === 'float64' ? (a: number[]) => a : (a: number[]) => a.map(Math.fround));

describe.each(backendsUnderTest())('AdamW kernels on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(vec(n), vec(n), vec(n), vec(n).map((v) => v.map(Math.abs)))), hyper])(
    `dense AdamW matches the reference update (${floatDtype(backend)})`,
    async (inputs, h) => {
      const dtype = floatDtype();
      const [p, g, m, v] = inputs.map(rounding(dtype));
      const got = await read(() => {
        const t = (a: number[]) => tensor(a, { dtype });
        const [pt, gt, mt, vt] = [t(p), t(g), t(m), t(v)];
        adamwUpdate(pt, gt, mt, vt, h);
        return { p: pt, m: mt, v: vt };
      });
      const e = p.map((_, i) => referenceAdamW(p[i], g[i], m[i], v[i], h));
      const { rtol, atol } = tolerance(dtype);
      expectClose(got.p, e.map((r) => r.p), rtol, atol, 'param');
      expectClose(got.m, e.map((r) => r.m), rtol, atol, 'm');
      expectClose(got.v, e.map((r) => r.v), rtol, atol, 'v');
    },
  );

  test.prop([fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(vec(n), fc.uniqueArray(fc.nat(n - 1), { minLength: 1, maxLength: n }), fc.boolean())), hyper])(
    'the increment step moves δ by AdamW (decay on δ, never on the base) and writes base + δ at the chosen positions only',
    async ([p0, idx, ownCounts], h) => {
      const dtype = floatDtype();
      const k = idx.length;
      const round = rounding(dtype);
      const p = round(p0);
      const base = idx.map((i) => p[i]);
      const delta0 = round(idx.map((i) => 0.01 * Math.cos(i)));
      const g = round(idx.map((i) => Math.sin(i + 1)));
      const m0 = round(idx.map((i) => 0.1 * Math.sin(3 * i)));
      const v0 = round(idx.map((i) => 0.05 * (1 + Math.cos(5 * i))));
      const counts = idx.map((i) => i % 4);
      const got = await read(() => {
        const t = (a: number[], d: 'float32' | 'float64' | 'int32' = dtype) => tensor(a, { dtype: d });
        const param = t(p);
        const [delta, m, v] = [t(delta0), t(m0), t(v0)];
        const steps = ownCounts ? t(counts) : null;
        adamwIncrement({ param, indices: t(idx, 'int32'), base: t(base), delta, grad: t(g), m, v, steps }, h);
        return { param, delta, m, v, ...(steps ? { steps } : {}) };
      });
      // The reference is AdamW on δ as the parameter; the base enters only the write-back.
      const e = idx.map((_, j) => referenceAdamW(delta0[j], g[j], m0[j], v0[j], { ...h, step: ownCounts ? counts[j] + 1 : h.step }));
      const { rtol, atol } = tolerance(dtype);
      expectClose(got.delta, e.map((r) => r.p), rtol, atol, 'delta');
      expectClose(got.m, e.map((r) => r.m), rtol, atol, 'm');
      expectClose(got.v, e.map((r) => r.v), rtol, atol, 'v');
      if (ownCounts) expectClose(got.steps as ArrayLike<number>, counts.map((c) => c + 1), 0, 0, 'step counts');
      const expected = [...p];
      idx.forEach((at, j) => (expected[at] = base[j] + got.delta[j]));
      expectClose(got.param, round(expected), 0, 0, 'param: base + δ at the indices (the stored δ), unchanged elsewhere');
    },
  );
});

/** scatterFlatInto (packages/tensor/src/ops/optim.ts): the in-place write-back of sparse updates, against its definition. */
describe.each(backendsUnderTest())('scatterFlatInto on $name', (backend) => {
  beforeAll(() => backend.start());

  /** x's shape, its values, k flat positions in it (distinct for 'set'), k values, and whether they come as a strided view. */
  const scatterCase = (mode: 'set' | 'add') =>
    shapeArb({ minRank: 1, maxRank: 3, minDim: 1, maxDim: 5 }).chain((shape) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const positions =
        mode === 'set' ? fc.uniqueArray(fc.nat(size - 1), { maxLength: size }) : fc.array(fc.nat(size - 1), { maxLength: 2 * size });
      return fc.tuple(fc.constant(shape), vec(size), positions, fc.boolean()).chain(([s, x, idx, strided]) => fc.tuple(fc.constant(s), fc.constant(x), fc.constant(idx), vec(idx.length), fc.constant(strided)));
    });

  for (const mode of ['set', 'add'] as const) {
    test.prop([scatterCase(mode), fc.constantFrom(...floatDtypes(backend), 'int32' as const)], { numRuns: 40 })(
      `scatterFlatInto '${mode}' writes x[idx[i]] ${mode === 'set' ? '=' : '+='} values[i] in place and leaves every other element`,
      async ([shape, x0, idx, v0, strided], dtype) => {
        const whole = (a: number[]) => a.map((v) => Math.round(v * 10) | 0);
        const [x, v] = dtype === 'int32' ? [whole(x0), whole(v0)] : [x0, v0].map(rounding(dtype));
        const [got] = await read(() => {
          const xt = tensor(x, { shape, dtype });
          const ids = tensor(new Int32Array(idx));
          // As a strided view: the second column of a [k, 2] tensor (stride 2), the first column all −7.
          const vt = strided ? tensor([...v, ...v].map((_, j) => (j % 2 ? v[(j - 1) / 2] : -7)), { dtype }).reshape([v.length, 2]).narrow(1, 1, 1) : tensor(v, { dtype });
          scatterFlatInto(xt, ids, vt, mode);
          return [xt];
        });
        // The definition, in float64, in index order.
        const e = [...x];
        idx.forEach((p, i) => (e[p] = mode === 'set' ? v[i] : e[p] + v[i]));
        if (dtype === 'int32') expect(got).toEqual(e);
        else {
          const { rtol, atol } = tolerance(dtype);
          expectClose(got, e, rtol, atol, `scatterFlatInto ${mode}`);
        }
      },
    );
  }
});
