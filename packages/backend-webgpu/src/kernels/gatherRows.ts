/**
 * Backend.gatherRows: out[i, :] = table[ids[i], :]; an id out of range gives zeros and is reported at the next read.
 * float16 / bfloat16 rows are moved as their bit patterns.
 */
import { type BackendStorage, ShapeError, type View } from '@siftjs/tensor';
import { INDEX_ERROR, IndexOp } from '../dispatch/index-errors.js';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Elem, Params, binding, halfFunctions, linearMain, moveElement, paramBlock, pi, pu, zeroElement } from '../wgsl/common.js';
import { flatView } from './shared/flat-view.js';

export function gatherRows(rt: GpuRuntime, table: View, ids: View): BackendStorage {
  const label = `gatherRows ${table.dtype} table ${shapeOf(table)}, ids ${ids.dtype} ${shapeOf(ids)}`;
  return rt.op(label, () => {
    if (table.shape.length !== 2) throw new ShapeError(`webgpu ${label}: the table must be [rows, cols]`);
    const t = rt.elem(table.dtype, label);
    const [V, D] = table.shape;
    const idx = flatView(rt, ids, label, 'int32');
    const n = idx.n * D;
    const out = rt.make(table.dtype, n, 'gatherRows');
    if (n > 0) {
      const p = new Params().u32(n).u32(D).u32(V).i32(table.offset).i32(table.strides[0]).i32(table.strides[1]).u32(idx.offset);
      rt.launch(label, gatherRowsSource(t, rt.wg), p, [out.buffer, rt.buf(table.storage, label), idx.buffer, rt.indexErrors.use()], rt.groups(n));
    }
    if (idx.tmp) rt.free(idx.tmp);
    return out;
  });
}

/** Words: n (ids × D), D, V, table offset, row stride, column stride, ids offset. out[t] = table[ids[t / D], t % D]. */
const GATHER_ROWS_WORDS = 7;

function gatherRowsSource(type: Elem, wg: number): string {
  return `${paramBlock(GATHER_ROWS_WORDS)}
${binding(1, 'out', type, true)}
${binding(2, 'table', type, false)}
${binding(3, 'ids', 'i32', false)}
${halfFunctions(type)}
${INDEX_ERROR(4)}
${linearMain(wg, 't')}
    if (t >= ${pu(0)}) { return; }
    let d = ${pu(1)};
    let id = ids_at(${pu(6)} + t / d);
    if (u32(id) >= ${pu(2)}) {
        if (t % d == 0u) { report_index(${IndexOp.gatherRows}u, id, ${pu(2)}); }
        ${zeroElement('out', type, 't')}
        return;
    }
    ${moveElement('out', type, 't', 'table', type, `u32(${pi(3)} + id * ${pi(4)} + i32(t % d) * ${pi(5)})`)}
}
`;
}
