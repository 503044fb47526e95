import { type BackendStorage, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { contiguousGeometry, copyStrided } from './support/copy-strided.js';

/** A contiguous copy of a strided view. */
export function copy(cpu: CpuContext, x: View): BackendStorage {
  const out = cpu.make(x.dtype, sizeOf(x.shape));
  copyStrided(cpu.array(x.storage), x, cpu.array(out), contiguousGeometry(x.shape));
  return out;
}
