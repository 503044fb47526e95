/** Backend.rmsNormBackward: layer norm's backward kernels (layerNormBackward.ts) without centring; dbias is null. */
import type { NormBackward, NormGradients, NormStats, View } from '@siftjs/tensor';
import type { GpuRuntime } from '../runtime.js';
import { layerNormBackward } from './layerNormBackward.js';

export function rmsNormBackward(rt: GpuRuntime, dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
  return layerNormBackward(rt, dy, x, weight, stats, cols, wanted, false);
}
