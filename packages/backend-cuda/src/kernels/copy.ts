import type { BackendStorage, View } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';
import { cast } from './cast.js';

/** A contiguous copy: cast's kernel with the dtype unchanged. */
export function copy(dev: CudaDevice, x: View): BackendStorage {
  return cast(dev, x, x.dtype);
}
