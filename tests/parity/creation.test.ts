import { AutogradError, arange, eye, full, noGrad, ones, scope, ShapeError, tensor, zeros } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';

describe.each(backendsUnderTest())('creation and in-place writes on $name', (backend) => {
  beforeAll(() => backend.start());

  it('infers shape and dtype from nested arrays and typed arrays', () =>
    scope(() => {
      const t = tensor([[1, 2, 3], [4, 5, 6]]);
      expect([t.shape, t.dtype]).toEqual([[2, 3], 'float32']);
      expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
      expect(tensor(new Float64Array(6), { shape: [3, 2] }).shape).toEqual([3, 2]);
      expect(tensor([true, false]).dtype).toBe('bool');
      expect(tensor(5).shape).toEqual([]);
      expect(tensor([]).shape).toEqual([0]);
      expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(ShapeError);
    }));

  it('zeros, ones, full, arange and eye', async () =>
    scope(() => {
      expect(Array.from(zeros([2]).toArraySync())).toEqual([0, 0]);
      expect(Array.from(ones([2], { dtype: 'int32' }).toArraySync())).toEqual([1, 1]);
      expect(Array.from(full([3], 2.5).toArraySync())).toEqual([2.5, 2.5, 2.5]);
      expect(Array.from(arange(1, 7, 2).toArraySync())).toEqual([1, 3, 5]);
      expect(arange(0, 1, 0.25).dtype).toBe('float32');
      expect(Array.from(eye(2, 3).toArraySync())).toEqual([1, 0, 0, 0, 1, 0]);
    }));

  it('toArray, item and toNested read back asynchronously', async () => {
    const t = tensor([[1, 2], [3, 4]]);
    expect(Array.from(await t.toArray())).toEqual([1, 2, 3, 4]);
    expect(await t.toNested()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(await t.sum().item()).toBe(10);
    await expect(t.item()).rejects.toThrow(/4 elements/);
    t.dispose();
  });

  it('copy_ writes in place (broadcasting), only under noGrad for tensors that require grad', () =>
    scope(() => {
      const w = zeros([2, 2], { requiresGrad: true });
      expect(() => w.copy_(ones([2]))).toThrow(AutogradError);
      noGrad(() => w.copy_(tensor([1, 2])));
      expect(Array.from(w.toArraySync())).toEqual([1, 2, 1, 2]);
      noGrad(() => w.narrow(0, 1, 1).fill_(7));
      expect(Array.from(w.toArraySync())).toEqual([1, 2, 7, 7]);
      expect(() => noGrad(() => w.copy_(ones([3])))).toThrow(/\[3\]/);
    }));
});
