import { fc, test } from '@fast-check/vitest';
import type { Tensor } from '@siftjs/tensor';
import { beforeAll, describe } from 'vitest';
import * as ref from '../reference/index.js';
import { axesArb, refArb, shapeArb, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';

const RUNS = { numRuns: 30 };

const reduced = (shape: number[], axes: number[] | undefined, keepdim: boolean) => {
  const ax = axes ?? shape.map((_, i) => i);
  return keepdim ? shape.map((d, i) => (ax.includes(i) ? 1 : d)) : shape.filter((_, i) => !ax.includes(i));
};

/** The same ordering of values, but at least 0.1 apart, so no two are within a finite-difference step. */
function spreadApart(x: ref.Ref): ref.Ref {
  const order = Array.from(x.data, (_, i) => i).sort((a, b) => x.data[a] - x.data[b] || a - b);
  const data = new Float64Array(x.data.length);
  order.forEach((i, rank) => (data[i] = -2 + 0.1 * rank));
  return ref.ref(x.shape, data);
}

type Case = {
  name: string;
  ours: (x: Tensor, axes: number[] | undefined, keepdim: boolean) => Tensor;
  ref: (x: ref.Ref, axes: number[] | undefined, keepdim: boolean) => ref.Ref;
  nonEmpty?: boolean;
};

const cases: Case[] = [
  { name: 'sum', ours: (x, a, k) => x.sum(a, k), ref: ref.sum },
  { name: 'mean', ours: (x, a, k) => x.mean(a, k), ref: ref.mean, nonEmpty: true },
  { name: 'max', ours: (x, a, k) => x.max(a, k), ref: ref.max, nonEmpty: true },
  { name: 'min', ours: (x, a, k) => x.min(a, k), ref: ref.min, nonEmpty: true },
  { name: 'var', ours: (x, a, k) => x.var(a, { keepdim: k }), ref: (x, a, k) => ref.variance(x, a, k, 1), nonEmpty: true },
  { name: 'var (biased)', ours: (x, a, k) => x.var(a, { keepdim: k, correction: 0 }), ref: (x, a, k) => ref.variance(x, a, k, 0), nonEmpty: true },
];

describe.each(backendsUnderTest())('reductions on $name', (backend) => {
  beforeAll(() => backend.start());

  for (const c of cases) {
    const input = shapeArb({ minDim: c.nonEmpty ? 1 : 0 }).chain((s) =>
      axesArb(s.length).chain(([axes, keepdim]) =>
        fc.tuple(refArb(s), fc.constant(axes), fc.constant(keepdim), weightsArb(reduced(s, axes, keepdim))),
      ),
    );
    test.prop([input], RUNS)(`${c.name} over random axes (keepdim or not) matches the reference`, ([x, axes, keepdim]) =>
      checkForward(([t]) => c.ours(t, axes, keepdim), ([r]) => c.ref(r, axes, keepdim), [x], {
        dtypes: ['float64', 'float32'],
        f32: { rtol: 1e-4, atol: 1e-5 },
      }),
    );
    test.prop([input], RUNS)(`${c.name} gradient matches finite differences`, async ([x, axes, keepdim, w]) => {
      // var over one element divides by zero: its gradient is NaN in torch too.
      if (c.name === 'var' && (axes ?? x.shape.map((_, i) => i)).reduce((p, a) => p * x.shape[a], 1) < 2) return;
      // max/min are not differentiable at ties: space the values apart (same order) for those.
      const input = c.name === 'max' || c.name === 'min' ? spreadApart(x) : x;
      await checkGradient(([t]) => c.ours(t, axes, keepdim), ([r]) => c.ref(r, axes, keepdim), [input], w);
    });
  }

  const argInput = shapeArb({ minRank: 1, minDim: 1 }).chain((s) => fc.tuple(refArb(s, { min: -2, max: 2 }), fc.nat(s.length - 1), fc.boolean()));
  test.prop([argInput], RUNS)('argmax / argmin give the first extremum (ties included) like the reference', async ([x, axis, keepdim]) => {
    const rounded = ref.ref(x.shape, x.data.map(Math.round)); // ties are common
    await checkForward(([t]) => t.argmax(axis, keepdim).cast(floatDtype()), ([r]) => ref.argmax(r, axis, keepdim), [rounded]);
    await checkForward(([t]) => t.argmin(axis, keepdim).cast(floatDtype()), ([r]) => ref.argmin(r, axis, keepdim), [rounded]);
  });
});
