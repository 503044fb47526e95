/**
 * Bitonic sort of `array<vec2<u32>>` pairs, descending by (x, y) — the order both users want: top-k by
 * (magnitude, ~index) and scatter-add by (~index, ~position). K (a power of two, at least one block) pairs.
 *
 * A block of B = 2·wg pairs sorts in workgroup memory: one dispatch sorts every block ('full'), and each later
 * merge stage runs its strides ≥ B as global compare-exchange dispatches and the rest in one 'merge' dispatch, so
 * K = 2^20 takes 78 dispatches instead of 210.
 */
import { LINEAR_GROUP, paramBlock, pu } from './common.js';

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
export function sortLocalSource(wg: number, mode: 'full' | 'merge'): string {
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
export function sortGlobalSource(wg: number): string {
  return `${paramBlock(3)}
@group(0) @binding(1) var<storage, read_write> pairs: array<vec2<u32>>;
${LESS}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let t = group * ${wg}u + lid;
    if (t >= ${pu(0)}) { return; }
    let j = ${pu(1)};
    let k2 = ${pu(2)};
    let i = 2u * j * (t / j) + t % j;
    ${exchange('pairs', '0u')}
}
`;
}
