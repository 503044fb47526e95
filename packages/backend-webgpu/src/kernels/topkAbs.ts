/**
 * Backend.topkAbs: a radix select finds the k-th largest |x|, the k at or above it are collected and sorted
 * (topkAbs.wgsl.ts, shared/sort.ts). x is read over its strides, never copied.
 */
import { type BackendStorage, ShapeError, type View, sizeOf } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { Params, collapse } from '../wgsl/common.js';
import { sortLength, sortPairs } from './shared/sort.js';
import { TOPK_ABS_STATE_WORDS, topkAbsCollectSource, topkAbsFinishSource, topkAbsHistogramSource, topkAbsPickSource } from './topkAbs.wgsl.js';

export function topkAbs(rt: GpuRuntime, x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
  const label = `topkAbs ${x.dtype} ${shapeOf(x)}, k ${k}`;
  return rt.op(label, () => {
    const t = rt.elem(x.dtype, label);
    const n = sizeOf(x.shape);
    if (!Number.isInteger(k) || k < 0 || k > n) throw new ShapeError(`webgpu topkAbs: k = ${k} is out of range for ${n} elements ${shapeOf(x)}`);
    const values = rt.make(x.dtype, k, 'topkAbs');
    const indices = rt.make('int32', k, 'topkAbs');
    if (k === 0) return { values, indices };
    const c = collapse(x.shape, [x.strides]);
    const rank = c.shape.length;
    // x's view, appended to each kernel's own words: sizes, offset, strides.
    const view = (p: Params) => {
      for (const d of c.shape) p.u32(d);
      p.i32(x.offset);
      for (const s of c.strides[0]) p.i32(s);
      return p;
    };
    const xb = rt.buf(x.storage, label);
    const state = rt.zeros('int32', TOPK_ABS_STATE_WORDS, label);
    const hist = topkAbsHistogramSource(t, rank, rt.wg);
    const pick = topkAbsPickSource();
    const groups = Math.min(Math.ceil(n / rt.wg), 1024);
    for (let pass = 0; pass < 8; pass++) {
      rt.launch(label, hist, view(new Params().u32(n).u32(pass).u32(groups * rt.wg)), [state.buffer, xb], [groups, 1, 1]);
      rt.launch(label, pick, new Params().u32(pass).u32(k), [state.buffer], [1, 1, 1]);
    }
    const K = sortLength(rt, k);
    const pairs = rt.zeros('int32', 2 * K, label);
    rt.launch(label, topkAbsCollectSource(t, rank, rt.wg), view(new Params().u32(n)), [pairs.buffer, state.buffer, xb], rt.groups(n));
    sortPairs(rt, label, pairs.buffer, K);
    rt.launch(label, topkAbsFinishSource(t, rank, rt.wg), view(new Params().u32(k)), [values.buffer, indices.buffer, pairs.buffer, xb], rt.groups(k));
    for (const s of [state, pairs]) rt.free(s);
    return { values, indices };
  });
}
