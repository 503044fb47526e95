import type { BackendStorage, DType, View } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { checkIndex, readInts } from './support/indices.js';

/** In place on a contiguous storage: dst[idx[i]] = src[i] ('set') or += src[i] ('add'); src is contiguous. */
export function scatterFlat(cpu: CpuContext, dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
  const ids = readInts(cpu.array(idx.storage), idx);
  const d = cpu.array(dst, dtype);
  const s = cpu.contiguous(src);
  for (let i = 0; i < ids.length; i++) {
    checkIndex('scatterFlat', ids[i], d.length);
    if (mode === 'add') d[ids[i]] += s[i];
    else d[ids[i]] = s[i];
  }
}
