import { fc, test } from '@fast-check/vitest';
import * as T from '@siftjs/tensor';
import { type Tensor, tensor } from '@siftjs/tensor';
import { beforeAll, describe } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest } from '../support/backends.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';

/** packages/tensor/src/ops/loss.ts: crossEntropy against PyTorch's definition written out in float64. */

const RUNS = { numRuns: 25 };

describe.each(backendsUnderTest())('losses on $name', (backend) => {
  beforeAll(() => backend.start());

  const ceInput = fc
    .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.constantFrom(0, 0.1), fc.constantFrom('mean', 'sum', 'none') as fc.Arbitrary<'mean' | 'sum' | 'none'>)
    .chain(([n, c, eps, reduction]) =>
      fc.tuple(
        refArb([n, c], { min: -4, max: 4 }),
        fc.array(fc.oneof(fc.nat(c - 1), fc.constant(-100)), { minLength: n, maxLength: n }),
        fc.constant(eps),
        fc.constant(reduction),
        weightsArb(reduction === 'none' ? [n] : []),
      ),
    );
  test.prop([ceInput], RUNS)('crossEntropy (ignore index, label smoothing, reductions) matches PyTorch semantics', async ([logits, targets, eps, reduction, w]) => {
    if (reduction === 'mean' && targets.every((t) => t === -100)) return; // 0/0, NaN in torch as well
    const opts = { ignoreIndex: -100, labelSmoothing: eps, reduction };
    const ours = ([x]: Tensor[]) => T.crossEntropy(x, tensor(targets, { dtype: 'int32' }), opts);
    const reference = ([x]: ref.Ref[]) => ref.crossEntropy(x, targets, opts);
    await checkForward(ours, reference, [logits]);
    await checkGradient(ours, reference, [logits], w);
  });
});
