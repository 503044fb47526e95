import { fc, test } from '@fast-check/vitest';
import type { Tensor } from '@siftjs/tensor';
import { beforeAll, describe } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb, shapeArb, type ValueOptions, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest } from '../support/backends.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';

/** packages/tensor/src/ops/clamp.ts: min(max(x, lo), hi) from the definition; the gradient passes inside the bounds. */

const RUNS = { numRuns: 25 };

const cases: { name: string; ours: (x: Tensor) => Tensor; ref: (x: ref.Ref) => ref.Ref; values: ValueOptions }[] = [
  // Values kept off the bounds, where the gradient has a kink.
  { name: 'clamp', ours: (x) => x.clamp(-1, 0.5), ref: (x) => ref.clamp(x, -1, 0.5), values: { awayFrom: [-1, 0.5] } },
  { name: 'clamp (min only)', ours: (x) => x.clamp(0.25), ref: (x) => ref.clamp(x, 0.25, Infinity), values: { awayFrom: [0.25] } },
];

describe.each(backendsUnderTest())('clamp on $name', (backend) => {
  beforeAll(() => backend.start());

  for (const c of cases) {
    const input = shapeArb().chain((s) => fc.tuple(refArb(s, c.values), weightsArb(s)));
    test.prop([input], RUNS)(`${c.name} matches the float64 reference in float64 and float32`, ([x]) =>
      checkForward(([t]) => c.ours(t), ([r]) => c.ref(r), [x], { dtypes: ['float64', 'float32'], f32: { rtol: 2e-5 } }),
    );
    test.prop([input], RUNS)(`${c.name} gradient matches finite differences`, ([x, w]) =>
      checkGradient(([t]) => c.ours(t), ([r]) => c.ref(r), [x], w),
    );
  }
});
