import type { Tensor } from '../tensor.js';
import { type NormForwardTensors, normRows } from './norm-rows.js';

/** The reference for Backend.rmsNorm, from primitives: layer norm's rows without centring or bias (fallbacks/norm-rows.ts). */
export function rmsNorm(x: Tensor, weight: Tensor | null, cols: number, eps: number): NormForwardTensors {
  return normRows(x, weight, null, cols, eps, false);
}
