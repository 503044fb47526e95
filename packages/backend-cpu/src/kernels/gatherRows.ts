import type { BackendStorage, View } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { checkIndex, readInts } from './support/indices.js';

/** out[i, :] = table[ids[i], :] for a [V, D] table and int32 ids (the embedding lookup); out is [ids.size, D]. */
export function gatherRows(cpu: CpuContext, table: View, ids: View): BackendStorage {
  const idx = readInts(cpu.array(ids.storage), ids);
  const [v, d] = table.shape;
  const out = cpu.make(table.dtype, idx.length * d);
  const t = cpu.array(table.storage);
  const o = cpu.array(out);
  const [rs, cs] = table.strides;
  for (let i = 0; i < idx.length; i++) {
    const id = idx[i];
    checkIndex('embedding', id, v);
    const base = table.offset + id * rs;
    for (let j = 0; j < d; j++) o[i * d + j] = t[base + j * cs];
  }
  return out;
}
