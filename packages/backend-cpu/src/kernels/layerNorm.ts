import type { NormForward, View } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { normForward } from './support/norm-forward.js';

/** Layer norm over rows of `cols`: y = (x − mean)·rstd·weight + bias, with the row statistics (support/norm-forward.ts). */
export function layerNorm(cpu: CpuContext, x: View, weight: View | null, bias: View | null, cols: number, eps: number): NormForward {
  return normForward(cpu, x, weight, bias, cols, eps, true);
}
