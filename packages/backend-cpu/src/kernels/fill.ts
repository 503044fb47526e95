import { type BackendStorage, type DType, isHalf, numberToHalfBits } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';

/** `size` elements of `value` (bool: 1 for any non-zero value; half dtypes: its bits, rounded to nearest even). */
export function fill(cpu: CpuContext, dtype: DType, size: number, value: number): BackendStorage {
  const s = cpu.make(dtype, size);
  cpu.array(s).fill(dtype === 'bool' ? (value ? 1 : 0) : isHalf(dtype) ? numberToHalfBits(value, dtype) : value);
  return s;
}
