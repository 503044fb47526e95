import { type BackendStorage, type DType, type View, fromBFloat16Bits, fromFloat16Bits, isHalf, numberToHalfBits } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { checkIndex, readInts } from './support/indices.js';

/**
 * In place on a contiguous storage: dst[idx[i]] = src[i] ('set') or += src[i] ('add'); src is contiguous and of
 * dst's dtype. Half dtypes: 'set' moves the bits; 'add' adds the two values in float32 and rounds the sum to nearest
 * even, as the float32 kernels' half path does (support/half-operands.ts), touching only the indexed elements.
 */
export function scatterFlat(cpu: CpuContext, dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
  const ids = readInts(cpu.array(idx.storage), idx);
  const d = cpu.array(dst, dtype);
  const s = cpu.contiguous(src);
  for (let i = 0; i < ids.length; i++) checkIndex('scatterFlat', ids[i], d.length);
  if (mode === 'add' && isHalf(dtype)) {
    const load = dtype === 'bfloat16' ? fromBFloat16Bits : fromFloat16Bits;
    for (let i = 0; i < ids.length; i++) d[ids[i]] = numberToHalfBits(Math.fround(load(d[ids[i]]) + load(s[i])), dtype);
    return;
  }
  for (let i = 0; i < ids.length; i++) {
    if (mode === 'add') d[ids[i]] += s[i];
    else d[ids[i]] = s[i];
  }
}
