import { fc, test } from '@fast-check/vitest';
import * as T from '@siftjs/tensor';
import { type Tensor, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb, shapeArb, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { read } from '../support/read.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';

/** packages/tensor/src/ops/indexing.ts: embedding, gatherFlat, scatterFlat and topkAbs against the reference. */

const RUNS = { numRuns: 25 };

describe.each(backendsUnderTest())('indexing ops on $name', (backend) => {
  beforeAll(() => backend.start());

  const embInput = fc
    .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 4 }), shapeArb({ maxRank: 2 }))
    .chain(([v, d, idShape]) =>
      fc.tuple(
        refArb([v, d]),
        fc.array(fc.nat(v - 1), { minLength: idShape.reduce((a, b) => a * b, 1), maxLength: idShape.reduce((a, b) => a * b, 1) }),
        fc.constant(idShape),
        weightsArb([...idShape, d]),
      ),
    );
  test.prop([embInput], RUNS)('embedding gathers rows and its gradient scatter-adds repeated ids', async ([table, ids, idShape, w]) => {
    const idT = () => tensor(ids, { shape: idShape, dtype: 'int32' });
    const ours = ([t]: Tensor[]) => T.embedding(t, idT());
    const reference = ([r]: ref.Ref[]) => ref.embedding(r, ref.ref(idShape, ids));
    await checkForward(ours, reference, [table]);
    await checkGradient(ours, reference, [table], w);
  });

  const flatInput = shapeArb({ minRank: 1, minDim: 1 }).chain((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    return fc.integer({ min: 0, max: 6 }).chain((k) =>
      fc.tuple(refArb(s), fc.array(fc.nat(n - 1), { minLength: k, maxLength: k }), refArb([k]), weightsArb([k]), weightsArb(s)),
    );
  });
  test.prop([flatInput], RUNS)('gatherFlat and scatterFlat (add) by flat index match the reference with gradients', async ([x, idx, v, wk, ws]) => {
    const ids = () => tensor(idx, { dtype: 'int32' });
    await checkForward(([t]) => t.gatherFlat(ids()), ([r]) => ref.gatherFlat(r, idx), [x]);
    await checkGradient(([t]) => t.gatherFlat(ids()), ([r]) => ref.gatherFlat(r, idx), [x], wk);
    const sc = ([t, vals]: Tensor[]) => T.scatterFlat(t, ids(), vals, 'add');
    const scRef = ([r, vals]: ref.Ref[]) => ref.scatterFlat(r, idx, vals, 'add');
    await checkForward(sc, scRef, [x, v]);
    await checkGradient(sc, scRef, [x, v], ws);
  });

  test.prop([flatInput], RUNS)('scatterFlat (set) with distinct indices overwrites and stops the gradient there', async ([x, idx, v, , ws]) => {
    const distinct = [...new Set(idx)];
    const vals = ref.ref([distinct.length], v.data.slice(0, distinct.length));
    const ids = () => tensor(distinct, { dtype: 'int32' });
    const sc = ([t, vv]: Tensor[]) => T.scatterFlat(t, ids(), vv, 'set');
    const scRef = ([r, vv]: ref.Ref[]) => ref.scatterFlat(r, distinct, vv, 'set');
    if (vals.data.length !== distinct.length) return;
    await checkForward(sc, scRef, [x, vals]);
    await checkGradient(sc, scRef, [x, vals], ws);
  });

  const topkInput = shapeArb({ minRank: 1 }).chain((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    return fc.tuple(refArb(s, { min: -2, max: 2 }), fc.integer({ min: 0, max: n }));
  });
  test.prop([topkInput], RUNS)('topkAbs picks the k largest magnitudes, ties by lower index, in descending order', async ([x, k]) => {
    const rounded = ref.ref(x.shape, x.data.map((v) => Math.round(v * 2) / 2)); // many ties; halves are exact in float32 too
    const { values, indices } = await read(() => T.topkAbs(tensor(rounded.data, { shape: rounded.shape, dtype: floatDtype() }), k));
    const expected = ref.topkAbs(rounded, k);
    expect(indices).toEqual(Array.from(expected.indices));
    expect(values).toEqual(Array.from(expected.values));
  });

  // A Linear weight's gradient reaches SIFT's hook as a transposed view: top-k reads it in place, in logical order.
  const stridedTopkInput = fc
    .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }))
    .chain(([r, c]) => fc.tuple(refArb([r, c], { min: -2, max: 2 }), fc.integer({ min: 0, max: r * c })));
  test.prop([stridedTopkInput], RUNS)('topkAbs of a transposed view equals topkAbs of its contiguous copy (logical indices)', async ([x, k]) => {
    const [r, c] = x.shape;
    const halves = x.data.map((v) => Math.round(v * 2) / 2);
    const transposed = ref.ref([c, r], Array.from({ length: r * c }, (_, i) => halves[(i % r) * c + Math.floor(i / r)]));
    const { values, indices } = await read(() => T.topkAbs(tensor(halves, { shape: [r, c], dtype: floatDtype() }).transpose(0, 1), k));
    const expected = ref.topkAbs(transposed, k);
    expect(indices).toEqual(Array.from(expected.indices));
    expect(values).toEqual(Array.from(expected.values));
  });
});
