import { AutogradError, DTypeError, arange, eye, full, noGrad, ones, scope, ShapeError, tensor, zeros } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, caps } from '../support/backends.js';
import { read } from '../support/read.js';

describe.each(backendsUnderTest())('creation and in-place writes on $name', (backend) => {
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

  it('copy_ writes in place (broadcasting), only under noGrad for tensors that require grad', async () => {
    const w = zeros([2, 2], { requiresGrad: true });
    expect(() => scope(() => w.copy_(ones([2])))).toThrow(AutogradError);
    // The value after each write is read from a clone taken right then.
    const [copied, filled] = await read(() => {
      noGrad(() => w.copy_(tensor([1, 2])));
      const first = w.detach().clone();
      noGrad(() => w.narrow(0, 1, 1).fill_(7));
      return [first, w];
    });
    expect(copied).toEqual([1, 2, 1, 2]);
    expect(filled).toEqual([1, 2, 7, 7]);
    expect(() => scope(() => noGrad(() => w.copy_(ones([3]))))).toThrow(/\[3\]/);
    w.dispose();
  });
});
