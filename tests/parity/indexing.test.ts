import { fc, test } from '@fast-check/vitest';
import * as T from '@siftjs/tensor';
import { type Tensor, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb, shapeArb, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { read } from '../support/read.js';
import { checkForward, checkGradient, roundF32 } from '../support/gradcheck.js';

const RUNS = { numRuns: 25 };

describe.each(backendsUnderTest())('fused and composite nn ops on $name', (backend) => {
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

  const joinInput = fc
    .tuple(shapeArb({ minRank: 1, maxRank: 3 }), fc.integer({ min: 1, max: 3 }), fc.nat())
    .chain(([shape, count, d]) => {
      const dim = d % shape.length;
      return fc
        .array(fc.integer({ min: 0, max: 3 }), { minLength: count, maxLength: count })
        .chain((lens) => {
          const shapes = lens.map((l) => shape.map((s, i) => (i === dim ? l : s)));
          const out = shape.map((s, i) => (i === dim ? lens.reduce((a, b) => a + b, 0) : s));
          return fc.tuple(fc.tuple(...shapes.map((s) => refArb(s))), fc.constant(dim), weightsArb(out));
        });
    });
  test.prop([joinInput], RUNS)('concat joins along a dim and hands each input its slice of the gradient', async ([xs, dim, w]) => {
    await checkForward((ts) => T.concat(ts, dim), (rs) => ref.concat(rs, dim), xs);
    await checkGradient((ts) => T.concat(ts, dim), (rs) => ref.concat(rs, dim), xs, w);
  });

  const stackInput = fc
    .tuple(shapeArb({ maxRank: 2 }), fc.integer({ min: 1, max: 3 }), fc.nat())
    .chain(([shape, count, d]) => {
      const dim = d % (shape.length + 1);
      const out = [...shape];
      out.splice(dim, 0, count);
      return fc.tuple(fc.array(refArb(shape), { minLength: count, maxLength: count }), fc.constant(dim), weightsArb(out));
    });
  test.prop([stackInput], RUNS)('stack adds a dim and matches the reference', async ([xs, dim, w]) => {
    await checkForward((ts) => T.stack(ts, dim), (rs) => ref.stack(rs, dim), xs);
    await checkGradient((ts) => T.stack(ts, dim), (rs) => ref.stack(rs, dim), xs, w);
  });

  const splitInput = shapeArb({ minRank: 1, minDim: 1 }).chain((s) => fc.tuple(refArb(s), fc.nat(s.length - 1), fc.integer({ min: 1, max: 3 })));
  test.prop([splitInput], RUNS)('split into chunks gives the reference pieces; concat of the pieces is the input', async ([x, dim, size]) => {
    // Exact comparisons: the values are made representable in the backend's float first.
    const dtype = floatDtype();
    const xr = dtype === 'float64' ? x : roundF32(x);
    const [parts, joined] = await read(() => {
      const t = tensor(xr.data, { shape: xr.shape, dtype });
      const ps = t.split(size, dim);
      return [ps, T.concat(ps, dim)];
    });
    const expected = ref.split(xr, size, dim);
    expect(parts.length).toBe(expected.length);
    parts.forEach((p, i) => expect(p).toEqual(Array.from(expected[i].data)));
    expect(joined).toEqual(Array.from(xr.data));
  });

  const triInput = fc
    .tuple(fc.array(fc.integer({ min: 1, max: 2 }), { maxLength: 1 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: -3, max: 3 }))
    .chain(([b, m, n, k]) => fc.tuple(refArb([...b, m, n]), fc.constant(k), weightsArb([...b, m, n])));
  test.prop([triInput], RUNS)('tril / triu keep one side of the k-th diagonal, values and gradients', async ([x, k, w]) => {
    await checkForward(([t]) => t.tril(k), ([r]) => ref.tril(r, k), [x]);
    await checkForward(([t]) => t.triu(k), ([r]) => ref.triu(r, k), [x]);
    await checkGradient(([t]) => t.tril(k), ([r]) => ref.tril(r, k), [x], w);
    await checkGradient(([t]) => t.triu(k), ([r]) => ref.triu(r, k), [x], w);
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
