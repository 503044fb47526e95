import { type BackendStorage, type View, selectTopkAbs, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { contiguousGeometry, copyStrided } from './support/copy-strided.js';
import { halfOperands } from './support/half-operands.js';

/**
 * The k largest |x| (ties: lower index first; `selectTopkAbs` of @siftjs/tensor), by |x| descending: values in x's dtype and flat int32 indices.
 * Half operands widen to float32 and the result is rounded back (support/half-operands.ts).
 */
export const topkAbs = halfOperands(function topkAbs(cpu: CpuContext, x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
  const n = sizeOf(x.shape);
  const flat = new Float64Array(n);
  copyStrided(cpu.array(x.storage), x, flat, contiguousGeometry(x.shape));
  const idx = selectTopkAbs(flat, k);
  const values = cpu.make(x.dtype, k);
  const v = cpu.array(values);
  for (let i = 0; i < k; i++) v[i] = flat[idx[i]];
  return { values, indices: cpu.upload('int32', idx) };
});
