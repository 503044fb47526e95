import type { NormBackward, NormGradients, NormStats, View } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';
import { normBackward } from './layerNormBackward.js';

/** Layer norm's backward without the centring; there is no bias, so no dbias. */
export function rmsNormBackward(dev: CudaDevice, dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
  return normBackward(dev, dy, x, weight, stats, cols, false, { ...wanted, bias: false });
}
