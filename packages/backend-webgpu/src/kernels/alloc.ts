/** Backend.alloc: a zero-filled storage from the buffer pool. */
import type { BackendStorage, DType } from '@siftjs/tensor';
import type { GpuRuntime } from '../runtime.js';

export function alloc(rt: GpuRuntime, dtype: DType, size: number): BackendStorage {
  return rt.op(`alloc ${dtype} ×${size}`, () => rt.zeros(dtype, size, 'alloc'));
}
