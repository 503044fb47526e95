/**
 * Backend.scatterFlat, in place: dst[idx[i]] = src[i] ('set') or += src[i] ('add').
 *
 * Scatter-adds with repeated indices (this one, and scatterAddRows for embedding gradients) must be
 * deterministic, and WGSL has no float atomics; a CAS loop on the f32 bits would add in whatever order the
 * invocations race, so the sum could change from run to run. Instead the (index, position) pairs are sorted
 * (shared/sort.ts), and one invocation per run of equal indices adds its sources in position order. That is
 * the CPU's order exactly, so the sums are bit-identical to the CPU's, and one long run costs no more than the
 * CPU's loop over it.
 *
 * float16 / bfloat16: 'set' moves bit patterns; 'add' sums dst[i] and its sources in f32 and rounds once.
 *
 * Indices live on the GPU, so a bad one cannot be thrown at dispatch as on the CPU: the kernel skips it and
 * records the first one in the error word (dispatch/index-errors.ts), a RangeError at the next read or sync.
 */
import { type BackendStorage, type DType, DTypeError, ShapeError, type View, sizeOf } from '@siftjs/tensor';
import { INDEX_ERROR, IndexOp } from '../dispatch/index-errors.js';
import type { GpuStorage } from '../memory/storage.js';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Elem, Params, binding, halfFunctions, linearMain, moveElement, paramBlock, pu } from '../wgsl/common.js';
import { flatView } from './shared/flat-view.js';
import { sortedIds } from './shared/sort.js';

export function scatterFlat(rt: GpuRuntime, dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
  const label = `scatterFlat ${mode} ${dtype}, idx ${shapeOf(idx)}, src ${src.dtype} ${shapeOf(src)}`;
  rt.op(label, () => {
    const t = rt.elem(dtype, label);
    if (src.dtype !== dtype) throw new DTypeError(`webgpu ${label}: src is ${src.dtype}, the destination ${dtype}`);
    const d = rt.buf(dst, label);
    const size = (dst as GpuStorage).size;
    const ids = flatView(rt, idx, label, 'int32');
    if (sizeOf(src.shape) !== ids.n) throw new ShapeError(`webgpu ${label}: ${sizeOf(src.shape)} values for ${ids.n} indices`);
    if (ids.n > 0) {
      const s = flatView(rt, src, label);
      if (mode === 'set') {
        const p = new Params().u32(ids.n).u32(size).u32(ids.offset).u32(s.offset).u32(IndexOp.scatterFlat);
        rt.launch(label, scatterFlatSetSource(t, t, rt.wg), p, [d, ids.buffer, s.buffer, rt.indexErrors.use()], rt.groups(ids.n));
      } else {
        const pairs = sortedIds(rt, label, ids);
        const p = new Params().u32(ids.n).u32(size).u32(s.offset);
        rt.launch(label, scatterFlatAddSource(t, rt.wg), p, [d, pairs.buffer, s.buffer, rt.indexErrors.use()], rt.groups(ids.n));
        rt.free(pairs);
      }
      if (s.tmp) rt.free(s.tmp);
    }
    if (ids.tmp) rt.free(ids.tmp);
  });
}

/**
 * Words: n, dst size, idx offset, src offset, error code. dst[idx[t]] = src[t] (adamwIncrement's write-back on
 * four-buffer devices too, where src is f32 and dst may be a half format: rounded). One invocation per index: with
 * repeated indices one of the writes wins, unordered (the tensor API asks for distinct indices with 'set').
 */
const SCATTER_FLAT_SET_WORDS = 5;

export function scatterFlatSetSource(type: Elem, srcType: Elem, wg: number): string {
  return `${paramBlock(SCATTER_FLAT_SET_WORDS)}
${binding(1, 'dst', type, true)}
${binding(2, 'idx', 'i32', false)}
${binding(3, 'src', srcType, false)}
${halfFunctions(type, srcType)}
${INDEX_ERROR(4)}
${linearMain(wg, 't')}
    if (t >= ${pu(0)}) { return; }
    let id = idx_at(${pu(2)} + t);
    if (u32(id) >= ${pu(1)}) { report_index(${pu(4)}, id, ${pu(1)}); return; }
    ${moveElement('dst', type, 'u32(id)', 'src', srcType, `${pu(3)} + t`)}
}
`;
}

/** Words: n, dst size, src offset. Per run of equal indices in the sorted pairs: dst[i] += src[positions…] in order. */
const SCATTER_FLAT_ADD_WORDS = 3;

function scatterFlatAddSource(type: Elem, wg: number): string {
  return `${paramBlock(SCATTER_FLAT_ADD_WORDS)}
${binding(1, 'dst', type, true)}
@group(0) @binding(2) var<storage, read> pairs: array<vec2<u32>>;
${binding(3, 'src', type, false)}
${halfFunctions(type)}
${INDEX_ERROR(4)}
${linearMain(wg, 't')}
    let n = ${pu(0)};
    if (t >= n) { return; }
    let key = pairs[t].x;
    if (t > 0u && pairs[t - 1u].x == key) { return; }
    let id = ~key;
    if (id >= ${pu(1)}) { report_index(${IndexOp.scatterFlat}u, bitcast<i32>(id), ${pu(1)}); return; }
    var acc = dst_at(id);
    for (var s = t; s < n && pairs[s].x == key; s++) { acc += src_at(${pu(2)} + ~pairs[s].y); }
    dst_set(id, acc);
}
`;
}
