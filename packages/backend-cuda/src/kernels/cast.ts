import type { BackendStorage, DType, View } from '@siftjs/tensor';
import { type CudaDevice, type CudaStorage, addressOf } from '../device.js';
import { collapse } from '../geometry.js';
import { launchMapFresh } from '../launch.js';
import { castKernel } from './cast.cu.js';

/** A contiguous copy of a strided view, converted to `dtype` (copy is this with the view's own dtype). */
export function cast(dev: CudaDevice, x: View, dtype: DType): BackendStorage {
  return launchMapFresh(dev, (r) => castKernel(x.dtype, dtype, r), dtype, x.shape, [x]);
}

/** An index view as a contiguous int32 device array: the view itself where it is one, else a cast copy (`tmp`, for the caller to free). */
export function contiguousInts(dev: CudaDevice, v: View): { p: bigint; n: number; tmp: CudaStorage | null } {
  const n = v.shape.reduce((a, b) => a * b, 1);
  const w = collapse(v.shape, [v.strides]);
  if (v.dtype === 'int32' && w.shape.length === 1 && (w.strides[0][0] === 1 || w.shape[0] === 1)) return { p: addressOf(v), n, tmp: null };
  const tmp = cast(dev, v, 'int32') as CudaStorage;
  return { p: tmp.ptr, n, tmp };
}
