import type { NormBackward, NormGradients, NormStats, View } from '@siftjs/tensor';
import { type CudaDevice, addressOf, storageOf } from '../device.js';
import { i64, ptr } from '../geometry.js';
import { launch, launchRows } from '../launch.js';
import { layerNormBackwardKernel, layerNormBackwardParamsKernel } from './layerNormBackward.cu.js';

export function layerNormBackward(dev: CudaDevice, dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
  return normBackward(dev, dy, x, weight, stats, cols, true, wanted);
}

/** Layer norm (`centred`) or RMS norm (rmsNormBackward.ts): dx per row, then dweight / dbias as column sums. */
export function normBackward(dev: CudaDevice, dy: View, x: View, w: View | null, stats: NormStats, cols: number, centred: boolean, wanted: NormGradients): NormBackward {
  const n = x.shape.reduce((a, b) => a * b, 1);
  const rows = cols ? n / cols : 0;
  const mean = centred && stats.mean ? storageOf(stats.mean).ptr : 0n;
  const rstd = storageOf(stats.rstd).ptr;
  // Only the gradients asked for: a frozen weight's or bias's is neither allocated nor summed.
  const dx = wanted.input ? dev.make(x.dtype, n) : null;
  if (dx) launchRows(dev, layerNormBackwardKernel(x.dtype, { centred, weight: !!w }), rows, [ptr(addressOf(dy)), ptr(addressOf(x)), ptr(w ? addressOf(w) : 0n), ptr(mean), ptr(rstd), ptr(dx.ptr), i64(rows), i64(cols)]);
  const dweight = w && wanted.weight ? dev.make(x.dtype, cols) : null;
  const dbias = centred && wanted.bias ? dev.make(x.dtype, cols) : null;
  if (dweight || dbias) {
    launch(dev, layerNormBackwardParamsKernel(x.dtype, centred), cols, [ptr(addressOf(dy)), ptr(addressOf(x)), ptr(mean), ptr(rstd), ptr(dweight ? dweight.ptr : 0n), ptr(dbias ? dbias.ptr : 0n), i64(rows), i64(cols)]);
  }
  return { dx, dweight, dbias };
}
