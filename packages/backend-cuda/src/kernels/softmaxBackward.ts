import type { BackendStorage, View } from '@siftjs/tensor';
import { type CudaDevice, addressOf } from '../device.js';
import { i64, ptr } from '../geometry.js';
import { launchRows } from '../launch.js';
import { softmaxBackwardKernel } from './softmaxBackward.cu.js';

export function softmaxBackward(dev: CudaDevice, y: View, dy: View, cols: number, log: boolean): BackendStorage {
  const n = y.shape.reduce((a, b) => a * b, 1);
  const rows = cols ? n / cols : 0;
  const out = dev.make(y.dtype, n);
  launchRows(dev, softmaxBackwardKernel(y.dtype, log), rows, [ptr(addressOf(y)), ptr(addressOf(dy)), ptr(out.ptr), i64(rows), i64(cols)]);
  return out;
}
