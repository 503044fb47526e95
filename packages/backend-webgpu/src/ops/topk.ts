/** Top-k by magnitude: a radix select finds the k-th largest, the k at or above it are collected and sorted (wgsl/topk.ts). */
import { type BackendStorage, ShapeError, type View, sizeOf } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { Params } from '../wgsl/common.js';
import { TOPK_STATE_WORDS, topkCollectSource, topkFinishSource, topkHistogramSource, topkPickSource } from '../wgsl/topk.js';
import { flat } from './indexing.js';
import { sortLength, sortPairs } from './sort.js';

export function topkAbs(rt: GpuRuntime, x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
  const label = `topkAbs ${x.dtype} ${shapeOf(x)}, k ${k}`;
  return rt.op(label, () => {
    const t = rt.scalar(x.dtype, label);
    const n = sizeOf(x.shape);
    if (!Number.isInteger(k) || k < 0 || k > n) throw new ShapeError(`webgpu topkAbs: k = ${k} is out of range for ${n} elements ${shapeOf(x)}`);
    const values = rt.make(x.dtype, k, 'topkAbs');
    const indices = rt.make('int32', k, 'topkAbs');
    if (k === 0) return { values, indices };
    const xs = flat(rt, x, label);
    const state = rt.zeros('int32', TOPK_STATE_WORDS, label);
    const hist = topkHistogramSource(t, rt.wg);
    const pick = topkPickSource();
    const groups = Math.min(Math.ceil(n / rt.wg), 1024);
    for (let pass = 0; pass < 8; pass++) {
      rt.launch(label, hist, new Params().u32(n).u32(xs.offset).u32(pass).u32(groups * rt.wg), [state.buffer, xs.buffer], [groups, 1, 1]);
      rt.launch(label, pick, new Params().u32(pass).u32(k), [state.buffer], [1, 1, 1]);
    }
    const K = sortLength(rt, k);
    const pairs = rt.zeros('int32', 2 * K, label);
    rt.launch(label, topkCollectSource(t, rt.wg), new Params().u32(n).u32(xs.offset), [pairs.buffer, state.buffer, xs.buffer], rt.groups(n));
    sortPairs(rt, label, pairs.buffer, K);
    rt.launch(label, topkFinishSource(t, rt.wg), new Params().u32(k).u32(xs.offset), [values.buffer, indices.buffer, pairs.buffer, xs.buffer], rt.groups(k));
    for (const s of [state, pairs, xs.tmp]) if (s) rt.free(s);
    return { values, indices };
  });
}
