import type { NormForward, View } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { normForward } from './support/norm-forward.js';

/** RMS norm over rows of `cols`: y = x·rstd·weight, with rstd = 1/√(mean(x²) + eps) (support/norm-forward.ts). */
export function rmsNorm(cpu: CpuContext, x: View, weight: View | null, cols: number, eps: number): NormForward {
  return normForward(cpu, x, weight, null, cols, eps, false);
}
