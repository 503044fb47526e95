import { test } from '@fast-check/vitest';
import { beforeAll, describe } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb, shapeArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { checkForward } from '../support/gradcheck.js';

/** packages/tensor/src/ops/cast.ts: dtype conversions with PyTorch's rules. */

const RUNS = { numRuns: 25 };

describe.each(backendsUnderTest())('cast on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([shapeArb().chain((s) => refArb(s, { min: -100, max: 100 }))], RUNS)(
    'cast float64 → float32 → int32 → bool follows PyTorch (round to nearest f32, truncate, non-zero)',
    async (x) => {
      // Without float64 the inputs are float32 already: the first cast is the identity there, the others are unchanged.
      const f = floatDtype();
      await checkForward(([t]) => t.cast('float32').cast(f), ([r]) => ref.ref(r.shape, Float64Array.from(Float32Array.from(r.data))), [x]);
      await checkForward(([t]) => t.cast('int32').cast(f), ([r]) => ref.ref(r.shape, r.data.map(Math.trunc)), [x]);
      await checkForward(([t]) => t.cast('int32').cast('bool').cast(f), ([r]) => ref.ref(r.shape, r.data.map((v) => (Math.trunc(v) !== 0 ? 1 : 0))), [x]);
    },
  );
});
