import { fc, test } from '@fast-check/vitest';
import * as T from '@siftjs/tensor';
import { arange, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb, shapeArb, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { read } from '../support/read.js';
import { checkForward, checkGradient, roundF32 } from '../support/gradcheck.js';

/** packages/tensor/src/ops/join.ts: concat, stack, split and chunk against the reference, values and gradients. */

const RUNS = { numRuns: 25 };

describe.each(backendsUnderTest())('joins and splits on $name', (backend) => {
  beforeAll(() => backend.start());

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

  it('split by a list of sizes and chunk (the last chunk smaller, as PyTorch) give views of those sizes', async () => {
    const got = await read(() => {
      const x = arange(24).reshape([2, 3, 4]);
      const bySizes = x.split([1, 3], 2);
      expect(bySizes.map((t) => t.shape)).toEqual([
        [2, 3, 1],
        [2, 3, 3],
      ]);
      const chunks = x.chunk(2, 1);
      expect(chunks.map((t) => t.shape[1])).toEqual([2, 1]);
      return [...bySizes, ...chunks];
    });
    // x[i][j][k] = 12i + 4j + k, read in row-major order of each piece.
    const pick = (is: number[], js: number[], ks: number[]) => is.flatMap((i) => js.flatMap((j) => ks.map((k) => 12 * i + 4 * j + k)));
    expect(got).toEqual([
      pick([0, 1], [0, 1, 2], [0]),
      pick([0, 1], [0, 1, 2], [1, 2, 3]),
      pick([0, 1], [0, 1], [0, 1, 2, 3]),
      pick([0, 1], [2], [0, 1, 2, 3]),
    ]);
  });
});
