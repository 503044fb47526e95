import type { Tensor } from '../tensor.js';
import { type NormForwardTensors, normRows } from './norm-rows.js';

/** The reference for Backend.layerNorm, from primitives (fallbacks/norm-rows.ts). */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, cols: number, eps: number): NormForwardTensors {
  return normRows(x, weight, bias, cols, eps, true);
}
