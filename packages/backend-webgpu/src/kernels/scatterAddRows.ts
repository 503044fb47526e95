/**
 * Backend.scatterAddRows (the embedding backward): a zero [rows, D] storage with src[i, :] added into row ids[i].
 * The (id, position) pairs are sorted first (shared/sort.ts), and invocation (s, j) adds the run of equal ids
 * that starts at sorted pair s, column j, in position order: the CPU's sums, bit for bit (see scatterFlat.ts).
 * float16 / bfloat16 sources are summed in f32 and each sum rounded once into the source's dtype.
 */
import { type BackendStorage, ShapeError, type View, sizeOf } from '@siftjs/tensor';
import { INDEX_ERROR, IndexOp } from '../dispatch/index-errors.js';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Elem, Params, binding, halfFunctions, linearMain, paramBlock, pu, valueType, zeroOf } from '../wgsl/common.js';
import { flatView } from './shared/flat-view.js';
import { sortedIds } from './shared/sort.js';

export function scatterAddRows(rt: GpuRuntime, rows: number, ids: View, src: View): BackendStorage {
  const label = `scatterAddRows ${src.dtype} into ${rows} rows, ids ${shapeOf(ids)}, src ${shapeOf(src)}`;
  return rt.op(label, () => {
    const t = rt.elem(src.dtype, label);
    const D = src.shape[src.shape.length - 1] ?? 1;
    const idx = flatView(rt, ids, label, 'int32');
    if (sizeOf(src.shape) !== idx.n * D) throw new ShapeError(`webgpu ${label}: src must hold one row of ${D} per id`);
    const out = rt.zeros(src.dtype, rows * D, 'scatterAddRows');
    if (idx.n * D > 0) {
      const s = flatView(rt, src, label);
      const pairs = sortedIds(rt, label, idx);
      const p = new Params().u32(idx.n * D).u32(D).u32(rows).u32(s.offset).u32(idx.n);
      rt.launch(label, scatterAddRowsSource(t, rt.wg), p, [out.buffer, pairs.buffer, s.buffer, rt.indexErrors.use()], rt.groups(idx.n * D));
      rt.free(pairs);
      if (s.tmp) rt.free(s.tmp);
    }
    if (idx.tmp) rt.free(idx.tmp);
    return out;
  });
}

/**
 * Words: n (ids × D), D, rows, src offset, ids. Invocation (s, j): when sorted pair s starts a run, out[id, j] =
 * Σ src[position, j] over the run, in position order (out starts at zero, as the CPU's).
 */
const SCATTER_ADD_ROWS_WORDS = 5;

function scatterAddRowsSource(type: Elem, wg: number): string {
  return `${paramBlock(SCATTER_ADD_ROWS_WORDS)}
${binding(1, 'out', type, true)}
@group(0) @binding(2) var<storage, read> pairs: array<vec2<u32>>;
${binding(3, 'src', type, false)}
${halfFunctions(type)}
${INDEX_ERROR(4)}
${linearMain(wg, 't')}
    if (t >= ${pu(0)}) { return; }
    let d = ${pu(1)};
    let s0 = t / d;
    let j = t % d;
    let key = pairs[s0].x;
    if (s0 > 0u && pairs[s0 - 1u].x == key) { return; }
    let id = ~key;
    if (id >= ${pu(2)}) {
        if (j == 0u) { report_index(${IndexOp.scatterAddRows}u, bitcast<i32>(id), ${pu(2)}); }
        return;
    }
    var acc = ${zeroOf(valueType(type))};
    for (var s = s0; s < ${pu(4)} && pairs[s].x == key; s++) { acc += src_at(${pu(3)} + (~pairs[s].y) * d + j); }
    out_set(id * d + j, acc);
}
`;
}
