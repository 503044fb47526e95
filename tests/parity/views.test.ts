import { arange, tensor, scope, type Tensor, ShapeError } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import * as ref from '../reference/index.js';

const vals = (t: Tensor) => Array.from(t.toArraySync());

/** A shape of rank 0–4 with dims 0–4, and a matching permutation. */
const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 });
const nonEmptyShapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });

function iota(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float64Array.from({ length: n }, (_, i) => i), { shape, dtype: 'float64' });
}

function refIota(shape: number[]): ref.Ref {
  const n = shape.reduce((a, b) => a * b, 1);
  return ref.ref(shape, Float64Array.from({ length: n }, (_, i) => i));
}

describe.each(backendsUnderTest())('views on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([nonEmptyShapeArb.chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length })))])(
    'permute is a view whose elements match the reference, and contiguous() copies them in order',
    ([shape, perm]) =>
      scope(() => {
        const x = iota(shape);
        const p = x.permute(perm);
        expect(p.shape).toEqual(perm.map((d) => shape[d]));
        expect(vals(p.contiguous())).toEqual(Array.from(ref.permute(refIota(shape), perm).data));
      }),
  );

  test.prop([shapeArb])('reshape round-trips and flatten gives row-major order', (shape) =>
    scope(() => {
      const x = iota(shape);
      const flat = x.reshape([x.size]);
      expect(vals(flat)).toEqual(Array.from(refIota(shape).data));
      expect(flat.reshape(shape).shape).toEqual(shape);
    }),
  );

  test.prop([nonEmptyShapeArb, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 3 })])(
    'slice with a step matches the reference and shares storage',
    (shape, a, b, step) =>
      scope(() => {
        const dim = a % shape.length;
        const start = b % shape[dim];
        const x = iota(shape);
        const s = x.slice(dim, start, undefined, step);
        const expected = ref.slice(refIota(shape), dim, start, shape[dim]);
        // reference slice has step 1: take every step-th along dim
        const picked = ref.split(expected, 1, dim).filter((_, i) => i % step === 0);
        expect(vals(s)).toEqual(Array.from(ref.concat(picked, dim).data));
        expect(s.storage()).toBe(x.storage());
      }),
  );

  test.prop([nonEmptyShapeArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })])(
    'expand repeats size-1 dims without copying',
    (shape, ones) =>
      scope(() => {
        const small = shape.map((d, i) => (ones[i] ? 1 : d));
        const x = iota(small);
        const e = x.expand(shape);
        expect(e.strides.filter((s, i) => small[i] === 1 && shape[i] > 1).every((s) => s === 0)).toBe(true);
        expect(vals(e)).toEqual(Array.from(ref.expand(refIota(small), shape).data));
      }),
  );

  it('squeeze / unsqueeze / transpose / narrow / select / split', () =>
    scope(() => {
      const x = arange(24).reshape([2, 3, 4]);
      expect(x.unsqueeze(1).shape).toEqual([2, 1, 3, 4]);
      expect(x.unsqueeze(-1).shape).toEqual([2, 3, 4, 1]);
      expect(x.unsqueeze(1).squeeze().shape).toEqual([2, 3, 4]);
      expect(x.unsqueeze(0).squeeze(0).shape).toEqual([2, 3, 4]);
      expect(vals(x.transpose(0, 2).contiguous()).slice(0, 4)).toEqual([0, 12, 4, 16]);
      expect(vals(x.narrow(2, 1, 2))).toEqual([1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22]);
      expect(vals(x.select(1, -1))).toEqual([8, 9, 10, 11, 20, 21, 22, 23]);
      expect(x.split([1, 3], 2).map((t) => t.shape)).toEqual([
        [2, 3, 1],
        [2, 3, 3],
      ]);
      expect(x.chunk(2, 1).map((t) => t.shape[1])).toEqual([2, 1]);
    }));

  it('view refuses a layout it cannot view and names both shapes; reshape copies instead', () =>
    scope(() => {
      const t = arange(6).reshape([2, 3]).transpose();
      expect(() => t.view([6])).toThrow(ShapeError);
      expect(() => t.view([6])).toThrow(/\[3, 2\].*\[6\]/);
      expect(vals(t.reshape([6]))).toEqual([0, 3, 1, 4, 2, 5]);
    }));

  it('views of a view keep the right offset', () =>
    scope(() => {
      const x = arange(20).reshape([4, 5]);
      const v = x.narrow(0, 1, 2).narrow(1, 2, 3).transpose();
      expect(vals(v.contiguous())).toEqual([7, 12, 8, 13, 9, 14]);
    }));
});
