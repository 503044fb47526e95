import { fc, test } from '@fast-check/vitest';
import * as T from '@siftjs/tensor';
import type { Tensor } from '@siftjs/tensor';
import { beforeAll, describe } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest } from '../support/backends.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';

/** packages/tensor/src/ops/norm.ts: layerNorm and rmsNorm against their float64 definitions, values and gradients. */

const RUNS = { numRuns: 25 };

describe.each(backendsUnderTest())('norms on $name', (backend) => {
  beforeAll(() => backend.start());

  const normInput = fc
    .tuple(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 2 }), fc.boolean(), fc.boolean())
    .chain(([lead, ns, hasW, hasB]) =>
      fc.tuple(
        refArb([...lead, ...ns]),
        fc.constant(ns),
        hasW ? refArb(ns, { min: 0.5, max: 2 }).map((r) => r as ref.Ref | null) : fc.constant(null),
        hasB ? refArb(ns).map((r) => r as ref.Ref | null) : fc.constant(null),
        weightsArb([...lead, ...ns]),
      ),
    );
  test.prop([normInput], RUNS)('layerNorm over trailing dims (with/without affine) matches the reference, values and gradients', async ([x, ns, w, b, g]) => {
    const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
    const ours = (ts: Tensor[]) => T.layerNorm(ts[0], ns, w ? ts[1] : null, b ? ts[w ? 2 : 1] : null, 1e-5);
    const reference = (rs: ref.Ref[]) => ref.layerNorm(rs[0], ns.length, w ? rs[1] : undefined, b ? rs[w ? 2 : 1] : undefined, 1e-5);
    await checkForward(ours, reference, inputs, { dtypes: ['float64', 'float32'], f32: { rtol: 1e-4, atol: 1e-5 } });
    await checkGradient(ours, reference, inputs, g, { rtol: 1e-4, atol: 1e-5 });
  });

  const rmsInput = fc
    .tuple(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }), fc.integer({ min: 1, max: 6 }), fc.boolean())
    .chain(([lead, d, hasW]) =>
      fc.tuple(refArb([...lead, d]), hasW ? refArb([d], { min: 0.5, max: 2 }).map((r) => r as ref.Ref | null) : fc.constant(null), weightsArb([...lead, d])),
    );
  test.prop([rmsInput], RUNS)('rmsNorm matches the reference, values and gradients', async ([x, w, g]) => {
    const inputs = [x, ...(w ? [w] : [])];
    const ours = (ts: Tensor[]) => T.rmsNorm(ts[0], w ? ts[1] : null, 1e-6);
    const reference = (rs: ref.Ref[]) => ref.rmsNorm(rs[0], w ? rs[1] : undefined, 1e-6);
    await checkForward(ours, reference, inputs, { f32: { rtol: 1e-4, atol: 1e-5 } });
    await checkGradient(ours, reference, inputs, g, { rtol: 1e-4, atol: 1e-5 });
  });
});
