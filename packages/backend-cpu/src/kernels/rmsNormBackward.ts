import type { NormBackward, NormGradients, NormStats, View } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { normBackward } from './support/norm-backward.js';
import { halfOperands } from './support/half-operands.js';

/**
 * RMS norm's backward: as layer norm's, with no bias and so no dbias (support/norm-backward.ts).
 * Half x, dy and weight widen to float32, the statistics come float32 (the forward's) and the gradients are rounded
 * back (support/half-operands.ts).
 */
export const rmsNormBackward = halfOperands(function rmsNormBackward(cpu: CpuContext, dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
  return normBackward(cpu, dy, x, weight, stats, cols, false, { ...wanted, bias: false });
});
