import { fc, test } from '@fast-check/vitest';
import { type DType, DTypeError, type Tensor, arange, eye, full, fullLike, onesLike, scope, ShapeError, tensor, zeros, zerosLike, ones } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { shapeArb } from '../support/arbitraries.js';
import { backendsUnderTest, caps } from '../support/backends.js';
import { read } from '../support/read.js';

/** The dtypes the running backend stores (float64 only where it has it). */
const storedDtypes = (): DType[] => (caps().float64 ? ['float32', 'float64', 'int32', 'bool'] : ['float32', 'int32', 'bool']);

/** A value of `dtype` as torch.full writes it: float32 rounded to nearest, float64 as is, int32 whole, bool 1 for non-zero. */
function stored(value: number, dtype: DType): number {
  if (dtype === 'float32') return Math.fround(value);
  if (dtype === 'bool') return value !== 0 ? 1 : 0;
  return value;
}

/** A fill value that every dtype stores without an implementation-defined choice (int32: whole, in range). */
const fillValue = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom(0, 1, -0.5));

/**
 * The tensor a *Like op copies its form from: `shape` in `dtype` with arbitrary contents, sometimes as a transposed
 * (non-contiguous) view, whose shape is then the transpose's.
 */
function source(shape: number[], dtype: DType, transposed: boolean): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const x = tensor(Array.from({ length: n }, (_, i) => (i % 7) - 3), { shape, dtype });
  return transposed && shape.length >= 2 ? x.transpose(0, 1) : x;
}

/** packages/tensor/src/ops/creation.ts: tensors from data, filled tensors, ranges, eye, the *Like forms and clone. */
describe.each(backendsUnderTest())('creation on $name', (backend) => {
  beforeAll(() => backend.start());

  it('infers shape and dtype from nested arrays and typed arrays', () =>
    scope(() => {
      const t = tensor([[1, 2, 3], [4, 5, 6]]);
      expect([t.shape, t.dtype]).toEqual([[2, 3], 'float32']);
      expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
      if (caps().float64) expect(tensor(new Float64Array(6), { shape: [3, 2] }).shape).toEqual([3, 2]);
      // A backend without float64 (WebGPU) refuses it by name rather than rounding silently.
      else expect(() => tensor(new Float64Array(6), { shape: [3, 2] })).toThrow(DTypeError);
      expect(tensor([true, false]).dtype).toBe('bool');
      expect(tensor(5).shape).toEqual([]);
      expect(tensor([]).shape).toEqual([0]);
      expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(ShapeError);
    }));

  it('zeros, ones, full, arange and eye', async () => {
    const got = await read(() => {
      expect(arange(0, 1, 0.25).dtype).toBe('float32');
      return [zeros([2]), ones([2], { dtype: 'int32' }), full([3], 2.5), arange(1, 7, 2), eye(2, 3)];
    });
    expect(got).toEqual([[0, 0], [1, 1], [2.5, 2.5, 2.5], [1, 3, 5], [1, 0, 0, 0, 1, 0]]);
  });

  test.prop([shapeArb({ maxRank: 4 }), fc.boolean(), fc.nat(), fc.option(fc.nat()), fillValue], { numRuns: 30 })(
    "fullLike, zerosLike and onesLike: x's shape (views too), x's dtype or the one asked, every element the value",
    async (shape, transposed, from, to, value) => {
      const dtypes = storedDtypes();
      const dtype = dtypes[from % dtypes.length];
      const asked = to === null ? undefined : dtypes[to % dtypes.length];
      const want = asked ?? dtype;
      if (want === 'int32') value = Math.trunc(value) | 0; // a whole int32: what it stores is then not a rounding choice
      const made: { shape: number[]; dtype: DType }[] = [];
      const [full_, zeros_, ones_] = await read(() => {
        const x = source(shape, dtype, transposed);
        const out = [fullLike(x, value, asked), zerosLike(x, asked), onesLike(x, asked)];
        for (const t of out) made.push({ shape: [...t.shape], dtype: t.dtype });
        expect(out.map((t) => t.isContiguous())).toEqual([true, true, true]);
        expect(out.every((t) => t.shape.join() === x.shape.join())).toBe(true);
        return out;
      });
      const size = shape.reduce((a, b) => a * b, 1);
      expect(made.map((m) => m.dtype)).toEqual([want, want, want]);
      expect(full_).toEqual(new Array(size).fill(stored(value, want)));
      expect(zeros_).toEqual(new Array(size).fill(0));
      expect(ones_).toEqual(new Array(size).fill(1));
    },
  );
});
