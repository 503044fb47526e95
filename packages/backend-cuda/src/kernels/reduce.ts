import { type BackendStorage, type ReduceOp, type View, splitAxes } from '@siftjs/tensor';
import { type CudaDevice, storageOf } from '../device.js';
import { bytes, i64, packGeo, ptr } from '../geometry.js';
import { launch } from '../launch.js';
import { REDUCE_BLOCK, reduceKernel, reduceOutType } from './reduce.cu.js';

/** One block per output element: `kept` walks the outputs, `red` the reduced elements of each. */
export function reduce(dev: CudaDevice, op: ReduceOp, x: View, axes: readonly number[]): BackendStorage {
  const { kept, reduced: red, keptSize: nOut, reducedSize: nRed } = splitAxes(x.shape, x.strides, axes);
  const out = dev.make(reduceOutType(op, x.dtype), nOut);
  const k = reduceKernel(op, x.dtype, kept.shape.length, red.shape.length);
  launch(dev, k, nOut * REDUCE_BLOCK, [ptr(storageOf(x.storage).ptr), ptr(out.ptr), i64(nOut), i64(nRed), bytes(packGeo(kept, [x.offset])), bytes(packGeo(red, [0]))], REDUCE_BLOCK);
  return out;
}
