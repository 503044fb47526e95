import type { NormForward, View } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { normForward } from './support/norm-forward.js';
import { halfOperands } from './support/half-operands.js';

/**
 * Layer norm over rows of `cols`: y = (x − mean)·rstd·weight + bias, with the row statistics (support/norm-forward.ts).
 * Half operands widen to float32 and y is rounded back; mean and rstd stay float32, the contract's `opmathDtype`
 * (support/half-operands.ts).
 */
export const layerNorm = halfOperands(function layerNorm(cpu: CpuContext, x: View, weight: View | null, bias: View | null, cols: number, eps: number): NormForward {
  return normForward(cpu, x, weight, bias, cols, eps, true);
}, { keepFloat32: ['mean', 'rstd'] });
