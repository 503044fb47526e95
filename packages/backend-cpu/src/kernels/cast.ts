import { type BackendStorage, type DType, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { contiguousGeometry, converter, copyStrided } from './support/copy-strided.js';

/** A contiguous copy of `x` in `dtype` (to int truncates toward zero, to bool is "non-zero"). */
export function cast(cpu: CpuContext, x: View, dtype: DType): BackendStorage {
  const out = cpu.make(dtype, sizeOf(x.shape));
  copyStrided(cpu.array(x.storage), x, cpu.array(out), contiguousGeometry(x.shape), converter(dtype));
  return out;
}
