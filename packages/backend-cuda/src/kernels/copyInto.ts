import type { View } from '@siftjs/tensor';
import { type CudaDevice, storageOf } from '../device.js';
import { launchMap } from '../launch.js';
import { castKernel } from './cast.cu.js';

/** In place: cast's strided kernel, writing through dst's own strides and offset. */
export function copyInto(dev: CudaDevice, dst: View, src: View): void {
  launchMap(dev, (r) => castKernel(src.dtype, dst.dtype, r), { p: storageOf(dst.storage).ptr, shape: dst.shape, strides: dst.strides, offset: dst.offset }, [src]);
}
