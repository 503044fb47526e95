import { fc, test } from '@fast-check/vitest';
import * as T from '@siftjs/tensor';
import type { Tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb, shapeArb, type ValueOptions, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtypes } from '../support/backends.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';
import { read } from '../support/read.js';

/** packages/tensor/src/ops/unary.ts: each op against its float64 definition, values and gradients. */

const RUNS = { numRuns: 25 };

interface UnaryCase {
  name: string;
  ours: (x: Tensor) => Tensor;
  ref: (x: ref.Ref) => ref.Ref;
  values?: ValueOptions;
  /** float32 tolerance where the op amplifies rounding. */
  rtol32?: number;
}

const unaryCases: UnaryCase[] = [
  { name: 'neg', ours: (x) => x.neg(), ref: ref.neg },
  { name: 'exp', ours: (x) => x.exp(), ref: ref.exp },
  { name: 'log', ours: (x) => x.log(), ref: ref.log, values: { min: 0.05, max: 5 } },
  { name: 'sqrt', ours: (x) => x.sqrt(), ref: ref.sqrt, values: { min: 0.05, max: 5 } },
  { name: 'rsqrt', ours: (x) => x.rsqrt(), ref: ref.rsqrt, values: { min: 0.05, max: 5 } },
  { name: 'abs', ours: (x) => x.abs(), ref: ref.abs, values: { awayFrom: [0] } },
  { name: 'sin', ours: (x) => x.sin(), ref: ref.sin },
  { name: 'cos', ours: (x) => x.cos(), ref: ref.cos },
  { name: 'tanh', ours: (x) => x.tanh(), ref: ref.tanh },
  { name: 'sigmoid', ours: (x) => x.sigmoid(), ref: ref.sigmoid },
  { name: 'relu', ours: (x) => x.relu(), ref: ref.relu, values: { awayFrom: [0] } },
  { name: 'erf', ours: (x) => x.erf(), ref: ref.erf },
  { name: 'gelu (erf)', ours: (x) => x.gelu(), ref: ref.geluErf },
  { name: 'gelu (tanh)', ours: (x) => x.gelu('tanh'), ref: ref.geluTanh },
  { name: 'silu', ours: (x) => x.silu(), ref: ref.silu },
  { name: 'square', ours: (x) => x.square(), ref: ref.square },
  { name: 'reciprocal', ours: (x) => x.reciprocal(), ref: ref.reciprocal, values: { awayFrom: [0], gap: 0.2 } },
  { name: 'sign', ours: (x) => x.sign(), ref: ref.sign, values: { awayFrom: [0] } },
  { name: 'floor', ours: (x) => x.floor(), ref: (x) => ref.map(x, Math.floor), values: { awayFrom: [-3, -2, -1, 0, 1, 2, 3] } },
];

describe.each(backendsUnderTest())('unary ops on $name', (backend) => {
  beforeAll(() => backend.start());

  for (const c of unaryCases) {
    const input = shapeArb().chain((s) => fc.tuple(refArb(s, c.values), weightsArb(s)));
    test.prop([input], RUNS)(`${c.name} matches the float64 reference in float64 and float32`, ([x]) =>
      checkForward(([t]) => c.ours(t), ([r]) => c.ref(r), [x], { dtypes: ['float64', 'float32'], f32: { rtol: c.rtol32 ?? 2e-5 } }),
    );
    test.prop([input], RUNS)(`${c.name} gradient matches finite differences`, ([x, w]) =>
      checkGradient(([t]) => c.ours(t), ([r]) => c.ref(r), [x], w),
    );
  }

  it.each(['none', 'tanh'] as const)('gelu (%s) gradient is 1 and 0 at the far ends (±inf, ±1e30), not NaN', async (approximate) => {
    for (const dtype of floatDtypes()) {
      const grad = await read(() => {
        const x = T.tensor([Infinity, 1e30, 50, -50, -1e30, -Infinity], { dtype, requiresGrad: true });
        x.gelu(approximate).sum().backward();
        return x.grad!;
      });
      expect(grad, dtype).toEqual([1, 1, 1, 0, 0, 0]);
    }
  });
});
