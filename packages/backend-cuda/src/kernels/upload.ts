import type { BackendStorage, DType, TypedArray } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';
import { uploadBytes } from '../staging.js';

export function upload(dev: CudaDevice, dtype: DType, data: TypedArray): BackendStorage {
  const s = dev.make(dtype, data.length);
  const n = data.byteLength;
  if (n === 0) return s;
  uploadBytes(dev, s.ptr, new Uint8Array(data.buffer, data.byteOffset, n));
  return s;
}
