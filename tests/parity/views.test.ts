import { arange, tensor, type Tensor, ShapeError } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { read } from '../support/read.js';
import * as ref from '../reference/index.js';

/** A shape of rank 0–4 with dims 0–4, and a matching permutation. */
const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 });
const nonEmptyShapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });

function iota(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  // Small integers: exact in float32 too, where the backend has no float64.
  return tensor(Float64Array.from({ length: n }, (_, i) => i), { shape, dtype: floatDtype() });
}

function refIota(shape: number[]): ref.Ref {
  const n = shape.reduce((a, b) => a * b, 1);
  return ref.ref(shape, Float64Array.from({ length: n }, (_, i) => i));
}

/** packages/tensor/src/ops/views.ts: views share storage and read like the reference's copies. */
describe.each(backendsUnderTest())('views on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([nonEmptyShapeArb.chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length })))])(
    'permute is a view whose elements match the reference, and contiguous() copies them in order',
    async ([shape, perm]) => {
      const got = await read(() => {
        const p = iota(shape).permute(perm);
        expect(p.shape).toEqual(perm.map((d) => shape[d]));
        return p.contiguous();
      });
      expect(got).toEqual(Array.from(ref.permute(refIota(shape), perm).data));
    },
  );

  test.prop([shapeArb])('reshape round-trips and flatten gives row-major order', async (shape) => {
    const got = await read(() => {
      const x = iota(shape);
      const flat = x.reshape([x.size]);
      expect(flat.reshape(shape).shape).toEqual(shape);
      return flat;
    });
    expect(got).toEqual(Array.from(refIota(shape).data));
  });

  test.prop([nonEmptyShapeArb, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 3 })])(
    'slice with a step matches the reference and shares storage',
    async (shape, a, b, step) => {
      const dim = a % shape.length;
      const start = b % shape[dim];
      const got = await read(() => {
        const x = iota(shape);
        const s = x.slice(dim, start, undefined, step);
        expect(s.storage()).toBe(x.storage());
        return s;
      });
      const expected = ref.slice(refIota(shape), dim, start, shape[dim]);
      // reference slice has step 1: take every step-th along dim
      const picked = ref.split(expected, 1, dim).filter((_, i) => i % step === 0);
      expect(got).toEqual(Array.from(ref.concat(picked, dim).data));
    },
  );

  test.prop([nonEmptyShapeArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })])(
    'expand repeats size-1 dims without copying',
    async (shape, ones) => {
      const small = shape.map((d, i) => (ones[i] ? 1 : d));
      const got = await read(() => {
        const e = iota(small).expand(shape);
        expect(e.strides.filter((s, i) => small[i] === 1 && shape[i] > 1).every((s) => s === 0)).toBe(true);
        return e;
      });
      expect(got).toEqual(Array.from(ref.expand(refIota(small), shape).data));
    },
  );

  it('squeeze / unsqueeze / transpose / narrow / select', async () => {
    const got = await read(() => {
      const x = arange(24).reshape([2, 3, 4]);
      expect(x.unsqueeze(1).shape).toEqual([2, 1, 3, 4]);
      expect(x.unsqueeze(-1).shape).toEqual([2, 3, 4, 1]);
      expect(x.unsqueeze(1).squeeze().shape).toEqual([2, 3, 4]);
      expect(x.unsqueeze(0).squeeze(0).shape).toEqual([2, 3, 4]);
      return { transposed: x.transpose(0, 2).contiguous(), narrowed: x.narrow(2, 1, 2), selected: x.select(1, -1) };
    });
    expect(got.transposed.slice(0, 4)).toEqual([0, 12, 4, 16]);
    expect(got.narrowed).toEqual([1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22]);
    expect(got.selected).toEqual([8, 9, 10, 11, 20, 21, 22, 23]);
  });

  it('view refuses a layout it cannot view and names both shapes; reshape copies instead', async () => {
    const got = await read(() => {
      const t = arange(6).reshape([2, 3]).transpose();
      expect(() => t.view([6])).toThrow(ShapeError);
      expect(() => t.view([6])).toThrow(/\[3, 2\].*\[6\]/);
      return t.reshape([6]);
    });
    expect(got).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('views of a view keep the right offset', async () => {
    const got = await read(() => arange(20).reshape([4, 5]).narrow(0, 1, 2).narrow(1, 2, 3).transpose().contiguous());
    expect(got).toEqual([7, 12, 8, 13, 9, 14]);
  });
});
