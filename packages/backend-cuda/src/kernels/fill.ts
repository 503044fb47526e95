import type { BackendStorage, DType } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';
import { f64, i64, ptr } from '../geometry.js';
import { launch } from '../launch.js';
import { fillKernel } from './fill.cu.js';

export function fill(dev: CudaDevice, dtype: DType, size: number, value: number): BackendStorage {
  const s = dev.make(dtype, size);
  launch(dev, fillKernel(dtype), size, [ptr(s.ptr), i64(size), f64(value)]);
  return s;
}
