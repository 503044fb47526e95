import { fc, test } from '@fast-check/vitest';
import type { Tensor } from '@siftjs/tensor';
import { beforeAll, describe } from 'vitest';
import * as ref from '../reference/index.js';
import { broadcastPairArb, refArb, shapeArb, type ValueOptions, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest } from '../support/backends.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';

/** packages/tensor/src/ops/binary.ts: each op against its float64 definition, broadcasting like NumPy. */

const RUNS = { numRuns: 25 };

interface BinaryCase {
  name: string;
  ours: (a: Tensor, b: Tensor) => Tensor;
  ref: (a: ref.Ref, b: ref.Ref) => ref.Ref;
  a?: ValueOptions;
  b?: ValueOptions;
}

const binaryCases: BinaryCase[] = [
  { name: 'add', ours: (a, b) => a.add(b), ref: ref.add },
  { name: 'sub', ours: (a, b) => a.sub(b), ref: ref.sub },
  { name: 'mul', ours: (a, b) => a.mul(b), ref: ref.mul },
  { name: 'div', ours: (a, b) => a.div(b), ref: ref.div, b: { min: 0.5, max: 3 } },
  { name: 'pow', ours: (a, b) => a.pow(b), ref: ref.pow, a: { min: 0.5, max: 2 }, b: { min: -2, max: 2 } },
  // Distinct value sets keep ties (where the gradient is split) out of the finite differences.
  { name: 'maximum', ours: (a, b) => a.maximum(b), ref: ref.maximum, a: { min: -3, max: 3 }, b: { min: -2.9, max: 2.9, awayFrom: [0] } },
  { name: 'minimum', ours: (a, b) => a.minimum(b), ref: ref.minimum, a: { min: -3, max: 3 }, b: { min: -2.9, max: 2.9, awayFrom: [0] } },
];

describe.each(backendsUnderTest())('binary ops on $name', (backend) => {
  beforeAll(() => backend.start());

  for (const c of binaryCases) {
    const input = broadcastPairArb().chain(([sa, sb]) => {
      const out = ref.broadcastShapes(sa, sb);
      return fc.tuple(refArb(sa, c.a), refArb(sb, c.b), weightsArb(out));
    });
    test.prop([input], RUNS)(`${c.name} broadcasts like NumPy and matches the reference`, ([a, b]) =>
      checkForward(([x, y]) => c.ours(x, y), ([x, y]) => c.ref(x, y), [a, b], { dtypes: ['float64', 'float32'], f32: { rtol: 1e-4 } }),
    );
    test.prop([input], RUNS)(`${c.name} gradients sum over broadcast dims and match finite differences`, ([a, b, w]) =>
      checkGradient(([x, y]) => c.ours(x, y), ([x, y]) => c.ref(x, y), [a, b], w),
    );
  }

  // A number operand becomes a 0-d tensor (scalarLike in ops/util.ts): x³ with the exponent a plain number.
  const scalarPow = (x: Tensor) => x.pow(3);
  const scalarPowRef = (x: ref.Ref) => ref.pow(x, ref.ref([], [3]));
  const input = shapeArb().chain((s) => fc.tuple(refArb(s), weightsArb(s)));
  test.prop([input], RUNS)('pow (scalar exponent) matches the float64 reference in float64 and float32', ([x]) =>
    checkForward(([t]) => scalarPow(t), ([r]) => scalarPowRef(r), [x], { dtypes: ['float64', 'float32'], f32: { rtol: 2e-5 } }),
  );
  test.prop([input], RUNS)('pow (scalar exponent) gradient matches finite differences', ([x, w]) =>
    checkGradient(([t]) => scalarPow(t), ([r]) => scalarPowRef(r), [x], w),
  );
});
