import type { BackendStorage, UnaryOp, View } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';
import { launchMapFresh } from '../launch.js';
import { unaryKernel, unaryOutType } from './unary.cu.js';

export function unary(dev: CudaDevice, op: UnaryOp, x: View): BackendStorage {
  return launchMapFresh(dev, (r) => unaryKernel(op, x.dtype, r), unaryOutType(op, x.dtype), x.shape, [x]);
}
