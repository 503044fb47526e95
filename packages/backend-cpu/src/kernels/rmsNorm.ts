import type { NormForward, View } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { normForward } from './support/norm-forward.js';
import { halfOperands } from './support/half-operands.js';

/**
 * RMS norm over rows of `cols`: y = x·rstd·weight, with rstd = 1/√(mean(x²) + eps) (support/norm-forward.ts).
 * Half operands widen to float32 and y is rounded back; rstd stays float32, the contract's `opmathDtype`
 * (support/half-operands.ts).
 */
export const rmsNorm = halfOperands(function rmsNorm(cpu: CpuContext, x: View, weight: View | null, cols: number, eps: number): NormForward {
  return normForward(cpu, x, weight, null, cols, eps, false);
}, { keepFloat32: ['rstd'] });
