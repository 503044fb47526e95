/**
 * Backend.gatherFlat: out[i] = x.flat[idx[i]], x read over its strides; a bad index is reported at the next read.
 * float16 / bfloat16 elements are moved as their bit patterns.
 */
import { type BackendStorage, type View, sizeOf } from '@siftjs/tensor';
import { INDEX_ERROR, IndexOp } from '../dispatch/index-errors.js';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Elem, Params, binding, collapse, halfFunctions, linearMain, moveElement, paramBlock, pu, stridedOffsets, zeroElement } from '../wgsl/common.js';
import { flatView } from './shared/flat-view.js';

export function gatherFlat(rt: GpuRuntime, x: View, idx: View): BackendStorage {
  const label = `gatherFlat ${x.dtype} ${shapeOf(x)}, idx ${shapeOf(idx)}`;
  return rt.op(label, () => {
    const t = rt.elem(x.dtype, label);
    const ids = flatView(rt, idx, label, 'int32');
    const out = rt.make(x.dtype, ids.n, 'gatherFlat');
    if (ids.n > 0) {
      const c = collapse(x.shape, [x.strides]);
      const rank = c.shape.length;
      const p = new Params().u32(ids.n).u32(sizeOf(x.shape)).u32(ids.offset);
      for (const d of c.shape) p.u32(d);
      p.i32(x.offset);
      for (const s of c.strides[0]) p.i32(s);
      rt.launch(label, gatherFlatSource(t, rank, rt.wg), p, [out.buffer, rt.buf(x.storage, label), ids.buffer, rt.indexErrors.use()], rt.groups(ids.n));
    }
    if (ids.tmp) rt.free(ids.tmp);
    return out;
  });
}

/** Words: n, x size, idx offset, x shape[rank], x offset, x strides[rank]. out[t] = x.flat[idx[t]]. */
function gatherFlatWords(rank: number): number {
  return 4 + 2 * rank;
}

function gatherFlatSource(type: Elem, rank: number, wg: number): string {
  const offsets = stridedOffsets('u32(id)', rank, 3, [{ name: 'xo', at: 3 + rank }]);
  return `${paramBlock(gatherFlatWords(rank))}
${binding(1, 'out', type, true)}
${binding(2, 'x', type, false)}
${binding(3, 'idx', 'i32', false)}
${halfFunctions(type)}
${INDEX_ERROR(4)}
${linearMain(wg, 't')}
    if (t >= ${pu(0)}) { return; }
    let id = idx_at(${pu(2)} + t);
    if (u32(id) >= ${pu(1)}) {
        report_index(${IndexOp.gatherFlat}u, id, ${pu(1)});
        ${zeroElement('out', type, 't')}
        return;
    }
    ${offsets}
    ${moveElement('out', type, 't', 'x', type, 'u32(xo)')}
}
`;
}
