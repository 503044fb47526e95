import { fc, test } from '@fast-check/vitest';
import type { Tensor } from '@siftjs/tensor';
import { beforeAll, describe } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb, shapeArb, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest } from '../support/backends.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';

/** packages/tensor/src/ops/softmax.ts: softmax and logSoftmax against exp(x − max)/Σexp(x − max) in float64, values and gradients, along any axis. */

const RUNS = { numRuns: 25 };

describe.each(backendsUnderTest())('softmax on $name', (backend) => {
  beforeAll(() => backend.start());

  const softmaxInput = shapeArb({ minRank: 1, minDim: 1 }).chain((s) => fc.tuple(refArb(s, { min: -8, max: 8 }), fc.nat(s.length - 1), weightsArb(s)));
  for (const log of [false, true]) {
    const name = log ? 'logSoftmax' : 'softmax';
    const ours = (x: Tensor, axis: number) => (log ? x.logSoftmax(axis) : x.softmax(axis));
    const reference = (x: ref.Ref, axis: number) => (log ? ref.logSoftmax(x, axis) : ref.softmax(x, axis));
    test.prop([softmaxInput], RUNS)(`${name} along any axis matches the reference`, ([x, axis]) =>
      checkForward(([t]) => ours(t, axis), ([r]) => reference(r, axis), [x], { dtypes: ['float64', 'float32'], f32: { rtol: 1e-5, atol: 1e-6 } }),
    );
    test.prop([softmaxInput], RUNS)(`${name} gradient matches finite differences`, ([x, axis, w]) =>
      checkGradient(([t]) => ours(t, axis), ([r]) => reference(r, axis), [x], w),
    );
  }
});
