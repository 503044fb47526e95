import { CpuBackend } from '@siftjs/backend-cpu';
import { BackendError, ones, registerBackend, setBackend, type Tensor, tensor, where } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, caps } from '../support/backends.js';
import { read } from '../support/read.js';

/**
 * packages/tensor/src/ops/util.ts: what every op gets from it — all inputs on one backend (backendOf), and a number
 * operand turned into a 0-d tensor whose dtype follows PyTorch's promotion of a Python scalar (scalarLike).
 */

// A second backend to hold the "other" tensor: a CPU backend of its own, whatever the backend under test is.
const OTHER = 'parity-util-other';
registerBackend(OTHER, () => new CpuBackend({ simd: false, blas: false }));

describe.each(backendsUnderTest())('op plumbing on $name', (backend) => {
  beforeAll(() => backend.start());

  it('an op on tensors of two backends is an error naming the op and both backends', async () => {
    await setBackend(OTHER);
    const there = ones([2]);
    await setBackend(backend.name);
    const here = ones([2]);
    try {
      // Named as the backends name themselves (a CPU backend registered under another name still says 'cpu').
      const both = `inputs live on different backends ('${here.backend.name}' and '${there.backend.name}')`;
      expect(here.backend).not.toBe(there.backend);
      expect(() => here.add(there)).toThrow(BackendError);
      expect(() => here.add(there)).toThrow(`add: ${both}`);
      expect(() => here.reshape([1, 2]).matmul(there.reshape([2, 1]))).toThrow(`matmul: ${both}`);
      expect(() => where(here.gt(0), here, there)).toThrow(/where: inputs live on different backends/);
    } finally {
      here.dispose();
      there.dispose();
    }
  });

  it('a number operand takes the tensor dtype; a fraction with an int32 tensor gives float32 (PyTorch promotion)', async () => {
    const ints = () => tensor([1, 2, 3], { dtype: 'int32' });
    const f = caps().float64 ? 'float64' : 'float32';
    const got = await read(() => {
      const sums: Tensor[] = [ints().add(2), ints().add(0.5), ints().mul(-1), tensor([1, 2], { dtype: f }).mul(3)];
      expect(sums.map((t) => t.dtype)).toEqual(['int32', 'float32', 'int32', f]);
      return sums;
    });
    expect(got).toEqual([[3, 4, 5], [1.5, 2.5, 3.5], [-1, -2, -3], [3, 6]]);
  });
});
