/** Backend.rmsNorm: layer norm's kernel (layerNorm.ts) without centring — no mean subtracted, no bias. */
import type { NormForward, View } from '@siftjs/tensor';
import type { GpuRuntime } from '../runtime.js';
import { layerNorm } from './layerNorm.js';

export function rmsNorm(rt: GpuRuntime, x: View, weight: View | null, cols: number, eps: number): NormForward {
  return layerNorm(rt, x, weight, null, cols, eps, false);
}
