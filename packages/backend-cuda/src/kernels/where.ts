import type { BackendStorage, View } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';
import { launchMapFresh } from '../launch.js';
import { whereKernel } from './where.cu.js';

export function where(dev: CudaDevice, cond: View, a: View, b: View): BackendStorage {
  return launchMapFresh(dev, (r) => whereKernel(a.dtype, r), a.dtype, a.shape, [cond, a, b]);
}
