import type { BackendStorage, View } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { checkIndex, readInts } from './support/indices.js';
import { halfOperands } from './support/half-operands.js';

/**
 * A zero [rows, D] storage with src[i, :] added into row ids[i] (the embedding backward); src is contiguous.
 * Half operands widen to float32 and the result is rounded back (support/half-operands.ts).
 */
export const scatterAddRows = halfOperands(function scatterAddRows(cpu: CpuContext, rows: number, ids: View, src: View): BackendStorage {
  const idx = readInts(cpu.array(ids.storage), ids);
  const d = src.shape[src.shape.length - 1];
  const out = cpu.alloc(src.dtype, rows * d);
  const o = cpu.array(out);
  const s = cpu.contiguous(src);
  for (let i = 0; i < idx.length; i++) {
    const id = idx[i];
    checkIndex('embedding backward', id, rows);
    for (let j = 0; j < d; j++) o[id * d + j] += s[i * d + j];
  }
  return out;
});
