import { type BackendStorage, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { checkIndex, readInts } from './support/indices.js';
import { type Geometry, collapse, forEachRow } from './support/strided.js';

/** out[i] = x.flat[idx[i]], x in the row-major element order of its view. */
export function gatherFlat(cpu: CpuContext, x: View, idx: View): BackendStorage {
  const ids = readInts(cpu.array(idx.storage), idx);
  const out = cpu.make(x.dtype, ids.length);
  const n = sizeOf(x.shape);
  const offs = elementOffsets(x);
  const a = cpu.array(x.storage);
  const o = cpu.array(out);
  for (let i = 0; i < ids.length; i++) {
    checkIndex('gatherFlat', ids[i], n);
    o[i] = offs ? a[offs[ids[i]]] : a[x.offset + ids[i]];
  }
  return out;
}

/** Element offsets of a view's elements in row-major order (for flat indexing of non-contiguous views). */
function elementOffsets(g: Geometry): Int32Array | null {
  const n = g.shape.reduce((p, d) => p * d, 1);
  const walk = collapse(g.shape, [g.strides]);
  if (walk.shape.length === 1 && walk.strides[0][0] === 1) return null; // contiguous: offset + i
  const out = new Int32Array(n);
  const s = walk.strides[0][walk.strides[0].length - 1];
  let o = 0;
  forEachRow(walk, [g.offset], (off, m) => {
    for (let j = 0, i = off[0]; j < m; j++, i += s) out[o++] = i;
  });
  return out;
}
