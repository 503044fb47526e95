import type { BackendStorage, View } from '@siftjs/tensor';
import { type CudaDevice, addressOf } from '../device.js';
import { i64, ptr } from '../geometry.js';
import { launchRows } from '../launch.js';
import { softmaxKernel } from './softmax.cu.js';

export function softmax(dev: CudaDevice, x: View, cols: number, log: boolean): BackendStorage {
  const n = x.shape.reduce((a, b) => a * b, 1);
  const rows = cols ? n / cols : 0;
  const out = dev.make(x.dtype, n);
  launchRows(dev, softmaxKernel(x.dtype, log), rows, [ptr(addressOf(x)), ptr(out.ptr), i64(rows), i64(cols)]);
  return out;
}
