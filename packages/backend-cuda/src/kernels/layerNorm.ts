import { type NormForward, type View, opmathDtype } from '@siftjs/tensor';
import { type CudaDevice, addressOf } from '../device.js';
import { f64, i64, ptr } from '../geometry.js';
import { launchRows } from '../launch.js';
import { layerNormKernel } from './layerNorm.cu.js';

export function layerNorm(dev: CudaDevice, x: View, weight: View | null, bias: View | null, cols: number, eps: number): NormForward {
  return normForward(dev, x, weight, bias, cols, eps, true);
}

/** Layer norm (`centred`) or RMS norm (rmsNorm.ts): one kernel, one block per row; mean only when centred. */
export function normForward(dev: CudaDevice, x: View, w: View | null, b: View | null, cols: number, eps: number, centred: boolean): NormForward {
  const n = x.shape.reduce((a, c) => a * c, 1);
  const rows = cols ? n / cols : 0;
  const y = dev.make(x.dtype, n);
  // The statistics in opmathDtype (float32 for a half x), as the contract keeps them for the backward.
  const rstd = dev.make(opmathDtype(x.dtype), rows);
  const mean = centred ? dev.make(opmathDtype(x.dtype), rows) : undefined;
  const k = layerNormKernel(x.dtype, { centred, weight: !!w, bias: !!b });
  launchRows(dev, k, rows, [ptr(addressOf(x)), ptr(w ? addressOf(w) : 0n), ptr(b ? addressOf(b) : 0n), ptr(y.ptr), ptr(mean ? mean.ptr : 0n), ptr(rstd.ptr), i64(rows), i64(cols), f64(eps)]);
  return { y, rstd, mean };
}
