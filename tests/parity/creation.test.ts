import { DTypeError, arange, eye, full, scope, ShapeError, tensor, zeros, ones } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, caps } from '../support/backends.js';
import { read } from '../support/read.js';

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
});
