import type { NormGradients } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { type NormBackwardTensors, normRowsBackward } from './norm-rows.js';

/** The reference for Backend.rmsNormBackward, from primitives: no centring and no bias, so no dbias. */
export function rmsNormBackward(dy: Tensor, x: Tensor, weight: Tensor | null, rstd: Tensor, cols: number, wanted: NormGradients): NormBackwardTensors {
  return normRowsBackward(dy, x, weight, { mean: null, rstd }, cols, false, wanted);
}
