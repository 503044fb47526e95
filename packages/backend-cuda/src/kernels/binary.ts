import type { BackendStorage, BinaryOp, View } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';
import { launchMapFresh } from '../launch.js';
import { binaryKernel, binaryOutType } from './binary.cu.js';

export function binary(dev: CudaDevice, op: BinaryOp, a: View, b: View): BackendStorage {
  return launchMapFresh(dev, (r) => binaryKernel(op, a.dtype, r), binaryOutType(op, a.dtype), a.shape, [a, b]);
}
