import { type BackendStorage, type View, splitAxes } from '@siftjs/tensor';
import { type CudaDevice, storageOf } from '../device.js';
import { bytes, i64, packGeo, ptr } from '../geometry.js';
import { launch } from '../launch.js';
import { argReduceKernel } from './argReduce.cu.js';
import { REDUCE_BLOCK } from './reduce.cu.js';

/** One block per output element, walking `axis` by its stride. */
export function argReduce(dev: CudaDevice, op: 'argmax' | 'argmin', x: View, axis: number): BackendStorage {
  const { kept, keptSize: nOut } = splitAxes(x.shape, x.strides, [axis]);
  const out = dev.make('int32', nOut);
  const k = argReduceKernel(op, x.dtype, kept.shape.length);
  launch(dev, k, nOut * REDUCE_BLOCK, [ptr(storageOf(x.storage).ptr), ptr(out.ptr), i64(nOut), i64(x.shape[axis]), i64(x.strides[axis]), bytes(packGeo(kept, [x.offset]))], REDUCE_BLOCK);
  return out;
}
