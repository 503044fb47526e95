import type { NormGradients } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { type NormBackwardTensors, normRowsBackward } from './norm-rows.js';

/** The reference for Backend.layerNormBackward, from primitives (fallbacks/norm-rows.ts). */
export function layerNormBackward(
  dy: Tensor,
  x: Tensor,
  weight: Tensor | null,
  stats: { mean: Tensor | null; rstd: Tensor },
  cols: number,
  wanted: NormGradients,
): NormBackwardTensors {
  return normRowsBackward(dy, x, weight, stats, cols, true, wanted);
}
