import { AutogradError, DTypeError, ShapeError, arange, ones, scope, tensor, zeros } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, caps } from '../support/backends.js';
import { read } from '../support/read.js';

describe.each(backendsUnderTest())('errors on $name', (backend) => {
  beforeAll(() => backend.start());

  it('a broadcasting mismatch names the op and both shapes', () =>
    scope(() => {
      expect(() => ones([2, 3]).add(ones([4]))).toThrow(ShapeError);
      expect(() => ones([2, 3]).add(ones([4]))).toThrow('add: shapes [2, 3] and [4] cannot be broadcast');
      expect(() => ones([2, 3]).mul(ones([3, 2]))).toThrow(/mul: shapes \[2, 3\] and \[3, 2\]/);
    }));

  it('matmul with mismatched inner dims names both shapes', () =>
    scope(() => {
      expect(() => ones([2, 3]).matmul(ones([4, 5]))).toThrow('matmul: inner dims differ: [2, 3] @ [4, 5] (3 vs 4)');
    }));

  it('a wrong dtype names the op and the dtype', () =>
    scope(() => {
      expect(() => arange(4).exp()).toThrow(DTypeError);
      expect(() => arange(4).exp()).toThrow(/exp: expected a float tensor, got int32/);
      expect(() => ones([2, 2]).matmul(arange(4).reshape([2, 2]))).toThrow(/matmul/);
      expect(() => tensor([1], { requiresGrad: true, dtype: 'int32' })).toThrow(/only float tensors can require grad/);
    }));

  it('bad shapes and axes are rejected with the offending value', () =>
    scope(() => {
      expect(() => zeros([2, -1])).toThrow(/invalid shape \[2, -1\]/);
      expect(() => ones([2, 3]).sum(2)).toThrow(/axis 2 is out of range for a tensor of rank 2/);
      expect(() => ones([6]).reshape([4, -1])).toThrow(/cannot reshape \[6\]/);
      expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
      expect(() => ones([3]).narrow(0, 2, 2)).toThrow(/narrow: start 2 and length 2 are out of range/);
    }));

  it('autograd misuse says what to do', () =>
    scope(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      expect(() => x.mul(2).backward()).toThrow(AutogradError);
      expect(() => x.mul(2).backward(ones([3]))).toThrow(/gradient shape \[3\] does not match output shape \[2\]/);
      x.dispose();
    }));

  it('out-of-range indices are caught', async () => {
    const message = /index 9 is out of range for 8 elements/;
    if (caps().syncReads) {
      scope(() => {
        const table = ones([4, 2]);
        expect(() => table.gatherFlat(tensor([9], { dtype: 'int32' }))).toThrow(message);
      });
    } else {
      // The indices live on the device: the error surfaces at the next read (the first point the program waits).
      await expect(read(() => ones([4, 2]).gatherFlat(tensor([9], { dtype: 'int32' })))).rejects.toThrow(message);
    }
  });
});
