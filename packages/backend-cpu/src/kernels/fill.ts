import type { BackendStorage, DType } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';

/** `size` elements of `value` (bool: 1 for any non-zero value). */
export function fill(cpu: CpuContext, dtype: DType, size: number, value: number): BackendStorage {
  const s = cpu.make(dtype, size);
  cpu.array(s).fill(dtype === 'bool' ? (value ? 1 : 0) : value);
  return s;
}
