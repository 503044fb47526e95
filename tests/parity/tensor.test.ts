import { AutogradError, noGrad, ones, scope, tensor, zeros } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { read } from '../support/read.js';

/** packages/tensor/src/tensor.ts: the Tensor class's own reads and in-place writes (no op file of their own). */
describe.each(backendsUnderTest())('tensor reads and in-place writes on $name', (backend) => {
  beforeAll(() => backend.start());

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
