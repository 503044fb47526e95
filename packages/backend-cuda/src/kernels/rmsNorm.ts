import type { NormForward, View } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';
import { normForward } from './layerNorm.js';

/** Layer norm's kernel without the centring and the bias. */
export function rmsNorm(dev: CudaDevice, x: View, weight: View | null, cols: number, eps: number): NormForward {
  return normForward(dev, x, weight, null, cols, eps, false);
}
