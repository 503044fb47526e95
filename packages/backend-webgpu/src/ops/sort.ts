/** Sorting (u32, u32) pairs on the GPU (wgsl/sort.ts), for scatter-adds in a fixed order and for top-k. */
import type { GpuRuntime, GpuStorage } from '../runtime.js';
import { Params, floorPow2, grid } from '../wgsl/common.js';
import { sortKeysSource } from '../wgsl/indexing.js';
import { sortGlobalSource, sortLocalSource } from '../wgsl/sort.js';

/** Invocations of the sort's workgroup: two pairs (16 bytes) of workgroup memory each. */
function sortWorkgroup(rt: GpuRuntime): number {
  return Math.min(rt.wg, floorPow2(rt.limits.maxComputeWorkgroupStorageSize / 16));
}

/** The sort length for n pairs: a power of two, at least one sort block. */
export function sortLength(rt: GpuRuntime, n: number): number {
  return Math.max(2 * sortWorkgroup(rt), 2 ** Math.ceil(Math.log2(Math.max(1, n))));
}

/** Sorts 2·K u32 words as K pairs, descending (wgsl/sort.ts). */
export function sortPairs(rt: GpuRuntime, label: string, pairs: GPUBuffer, K: number): void {
  const wg = sortWorkgroup(rt);
  const B = 2 * wg;
  const max = rt.limits.maxComputeWorkgroupsPerDimension;
  rt.launch(label, sortLocalSource(wg, 'full'), new Params().u32(B), [pairs], grid(K / B, max));
  for (let k2 = 2 * B; k2 <= K; k2 *= 2) {
    for (let j = k2 / 2; j >= B; j /= 2) {
      rt.launch(label, sortGlobalSource(wg), new Params().u32(K / 2).u32(j).u32(k2), [pairs], grid(Math.ceil(K / 2 / wg), max));
    }
    rt.launch(label, sortLocalSource(wg, 'merge'), new Params().u32(k2), [pairs], grid(K / B, max));
  }
}

/** (~id, ~position) pairs of flat int32 ids, sorted: by id, then position (wgsl/indexing.ts). */
export function sortedIds(rt: GpuRuntime, label: string, ids: { buffer: GPUBuffer; offset: number; n: number }): GpuStorage {
  const K = sortLength(rt, ids.n);
  const pairs = rt.make('int32', 2 * K, label);
  rt.launch(label, sortKeysSource(rt.wg), new Params().u32(ids.n).u32(K).u32(ids.offset), [pairs.buffer, ids.buffer], rt.groups(K));
  sortPairs(rt, label, pairs.buffer, K);
  return pairs;
}
