import { fc, test } from '@fast-check/vitest';
import * as T from '@siftjs/tensor';
import type { Tensor } from '@siftjs/tensor';
import { beforeAll, describe } from 'vitest';
import * as ref from '../reference/index.js';
import { broadcastPairArb, refArb, refsArb, shapeArb, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';

/** packages/tensor/src/ops/compare.ts: comparisons, logic, isnan, where and maskedFill against their truth tables. */

const RUNS = { numRuns: 25 };

describe.each(backendsUnderTest())('comparisons and selection on $name', (backend) => {
  beforeAll(() => backend.start());

  const cmp = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
  test.prop([broadcastPairArb().chain(([sa, sb]) => refsArb([sa, sb], { min: -2, max: 2 })), fc.constantFrom(...cmp)], RUNS)(
    'comparisons give bool tensors equal to the reference',
    ([a, b], op) => {
      // Small integers make equality common.
      const ai = ref.ref(a.shape, a.data.map(Math.round));
      const bi = ref.ref(b.shape, b.data.map(Math.round));
      return checkForward(([x, y]) => (x[op](y) as Tensor).cast(floatDtype()), ([x, y]) => ref[op](x, y), [ai, bi]);
    },
  );

  test.prop([broadcastPairArb().chain(([sa, sb]) => refsArb([sa, sb], { min: -1, max: 1 }))], RUNS)(
    'logical and / or / not and isnan follow the truth tables',
    async ([a, b]) => {
      const pos = (r: ref.Ref) => ref.gt(r, ref.ref([], [0]));
      const asF = (t: Tensor) => t.cast(floatDtype());
      await checkForward(([x, y]) => asF(x.gt(0).logicalAnd(y.gt(0))), ([x, y]) => ref.mul(pos(x), pos(y)), [a, b]);
      await checkForward(([x, y]) => asF(x.gt(0).logicalOr(y.gt(0))), ([x, y]) => ref.maximum(pos(x), pos(y)), [a, b]);
      await checkForward(([x]) => asF(x.gt(0).logicalNot()), ([x]) => ref.le(x, ref.ref([], [0])), [a]);
      await checkForward(([x]) => asF(x.log().isnan()), ([x]) => ref.lt(x, ref.ref([], [0])), [a]);
    },
  );

  test.prop(
    [
      shapeArb({ maxRank: 3 }).chain((s) =>
        fc.tuple(refArb(s), refArb(s), refArb(s), weightsArb(s)),
      ),
    ],
    RUNS,
  )('where takes a where cond is true, b elsewhere, and routes each gradient to its side', async ([c, a, b, w]) => {
    const ours = ([x, y, z]: Tensor[]) => T.where(x.gt(0), y, z);
    const reference = ([x, y, z]: ref.Ref[]) => ref.where(ref.gt(x, ref.ref([], [0])), y, z);
    await checkForward(ours, reference, [c, a, b]);
    await checkGradient(ours, reference, [c, a, b], w, { differentiable: [false, true, true] });
  });

  test.prop([shapeArb().chain((s) => fc.tuple(refArb(s), refArb(s), weightsArb(s)))], RUNS)(
    'maskedFill puts the value where the mask is set and passes the gradient elsewhere',
    async ([x, m, w]) => {
      const ours = ([a, mask]: Tensor[]) => a.maskedFill(mask.gt(0), -7);
      const reference = ([a, mask]: ref.Ref[]) => ref.maskedFill(a, ref.gt(mask, ref.ref([], [0])), -7);
      await checkForward(ours, reference, [x, m]);
      await checkGradient(ours, reference, [x, m], w, { differentiable: [true, false] });
    },
  );
});
