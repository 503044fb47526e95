import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest } from '../support/backends.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';

/** packages/tensor/src/ops/triangular.ts: tril and triu against the index rule j − i ≤ k (≥ k). */

const RUNS = { numRuns: 25 };

describe.each(backendsUnderTest())('triangular masks on $name', (backend) => {
  beforeAll(() => backend.start());

  const triInput = fc
    .tuple(fc.array(fc.integer({ min: 1, max: 2 }), { maxLength: 1 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: -3, max: 3 }))
    .chain(([b, m, n, k]) => fc.tuple(refArb([...b, m, n]), fc.constant(k), weightsArb([...b, m, n])));
  test.prop([triInput], RUNS)('tril / triu keep one side of the k-th diagonal, values and gradients', async ([x, k, w]) => {
    await checkForward(([t]) => t.tril(k), ([r]) => ref.tril(r, k), [x]);
    await checkForward(([t]) => t.triu(k), ([r]) => ref.triu(r, k), [x]);
    await checkGradient(([t]) => t.tril(k), ([r]) => ref.tril(r, k), [x], w);
    await checkGradient(([t]) => t.triu(k), ([r]) => ref.triu(r, k), [x], w);
  });
});
