/**
 * Bitonic sort of `array<vec2<u32>>` pairs, descending by (x, y) — the order its users want: topkAbs by
 * (magnitude, ~index), scatterAddRows and scatterFlat's 'add' by (~index, ~position). K pairs, a power of two
 * and at least one block: O(K log² K) work, but fully parallel.
 *
 * A block of B = 2·wg pairs sorts in workgroup memory: one dispatch sorts every block ('full'), and each later
 * merge stage runs its strides ≥ B as global compare-exchange dispatches and the rest in one 'merge' dispatch, so
 * K = 2^20 takes 78 dispatches instead of 210.
 */
import type { GpuStorage } from '../../memory/storage.js';
import type { GpuRuntime } from '../../runtime.js';
import { LINEAR_GROUP, Params, floorPow2, grid, linearMain, paramBlock, pu, storage } from '../../wgsl/common.js';

/** Invocations of the sort's workgroup: two pairs (16 bytes) of workgroup memory each. */
function sortWorkgroup(rt: GpuRuntime): number {
  return Math.min(rt.wg, floorPow2(rt.limits.maxComputeWorkgroupStorageSize / 16));
}

/** The sort length for n pairs: a power of two, at least one sort block. */
export function sortLength(rt: GpuRuntime, n: number): number {
  return Math.max(2 * sortWorkgroup(rt), 2 ** Math.ceil(Math.log2(Math.max(1, n))));
}

/** Sorts 2·K u32 words as K pairs, descending. */
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

/** (~id, ~position) pairs of flat int32 ids, sorted: by id, then position. */
export function sortedIds(rt: GpuRuntime, label: string, ids: { buffer: GPUBuffer; offset: number; n: number }): GpuStorage {
  const K = sortLength(rt, ids.n);
  const pairs = rt.make('int32', 2 * K, label);
  rt.launch(label, sortKeysSource(rt.wg), new Params().u32(ids.n).u32(K).u32(ids.offset), [pairs.buffer, ids.buffer], rt.groups(K));
  sortPairs(rt, label, pairs.buffer, K);
  return pairs;
}

const LESS = `fn less(a: vec2<u32>, b: vec2<u32>) -> bool { return a.x < b.x || (a.x == b.x && a.y < b.y); }`;

/**
 * The compare-exchange of positions i and i + j at stage k2: blocks of k2 with bit k2 of the position clear sort
 * descending, the others ascending (so each stage merges bitonic sequences; the last stage is all descending).
 */
function exchange(arr: string, base: string): string {
  return `let l = i + j;
        let a = ${arr}[i];
        let b = ${arr}[l];
        let swap = select(less(b, a), less(a, b), ((${base} + i) & k2) == 0u);
        if (swap) { ${arr}[i] = b; ${arr}[l] = a; }`;
}

/** Words: B ('full', which sorts each block of B) or k2 ('merge', which finishes stage k2 for strides < B). */
function sortLocalSource(wg: number, mode: 'full' | 'merge'): string {
  const B = 2 * wg;
  const stages =
    mode === 'full'
      ? `for (var k2 = 2u; k2 <= ${pu(0)}; k2 = k2 << 1u) {
        for (var j = k2 >> 1u; j > 0u; j = j >> 1u) { step(k2, j, base, lid); }
    }`
      : `let k2 = ${pu(0)};
    for (var j = ${wg}u; j > 0u; j = j >> 1u) { step(k2, j, base, lid); }`;
  return `${paramBlock(1)}
@group(0) @binding(1) var<storage, read_write> pairs: array<vec2<u32>>;
var<workgroup> sh: array<vec2<u32>, ${B}>;
${LESS}
fn step(k2: u32, j: u32, base: u32, t: u32) {
    let i = 2u * j * (t / j) + t % j;
    {
        ${exchange('sh', 'base')}
    }
    workgroupBarrier();
}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let base = group * ${B}u;
    sh[lid] = pairs[base + lid];
    sh[lid + ${wg}u] = pairs[base + lid + ${wg}u];
    workgroupBarrier();
    ${stages}
    pairs[base + lid] = sh[lid];
    pairs[base + lid + ${wg}u] = sh[lid + ${wg}u];
}
`;
}

/** Words: K / 2, j, k2. One compare-exchange per invocation at stride j ≥ B. */
function sortGlobalSource(wg: number): string {
  return `${paramBlock(3)}
@group(0) @binding(1) var<storage, read_write> pairs: array<vec2<u32>>;
${LESS}
${linearMain(wg, 't')}
    if (t >= ${pu(0)}) { return; }
    let j = ${pu(1)};
    let k2 = ${pu(2)};
    let i = 2u * j * (t / j) + t % j;
    ${exchange('pairs', '0u')}
}
`;
}

/**
 * Words: n, padded size K, ids offset. pairs[s] = (~ids[s], ~s) for s < n, (0, 0) up to K: sorted descending,
 * the pairs come out by index then position ascending, and the zero pairs that pad the sort to a power of two
 * land after every real pair.
 */
const SORT_KEYS_WORDS = 3;

function sortKeysSource(wg: number): string {
  return `${paramBlock(SORT_KEYS_WORDS)}
@group(0) @binding(1) var<storage, read_write> pairs: array<vec2<u32>>;
${storage(2, 'ids', 'i32', false)}
${linearMain(wg, 't')}
    if (t >= ${pu(1)}) { return; }
    if (t < ${pu(0)}) { pairs[t] = ~vec2<u32>(bitcast<u32>(ids[${pu(2)} + t]), t); } else { pairs[t] = vec2<u32>(0u, 0u); }
}
`;
}
