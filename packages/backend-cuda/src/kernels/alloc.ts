import type { BackendStorage, DType } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';

/** A zero-filled storage (a memset in stream order). */
export function alloc(dev: CudaDevice, dtype: DType, size: number): BackendStorage {
  const s = dev.make(dtype, size);
  dev.zero(s.ptr, s.block.bytes);
  return s;
}
