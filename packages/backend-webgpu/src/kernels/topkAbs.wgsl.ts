/**
 * topkAbs's kernels (topkAbs.ts): top-k by magnitude in the CPU's order, |x| descending (NaN counts as +∞),
 * ties by lower index.
 *
 * Each element gets a unique 64-bit rank (key, ~index), key = the bits of |x| (which order as |x| does, NaN
 * clamped to +∞'s bits): "k largest ranks" is then exactly the CPU's selection. A radix select finds the k-th
 * largest rank on the GPU — eight passes, each a histogram of one byte over the elements that match the bytes
 * chosen so far (integer atomics: deterministic), then a one-invocation pick of the byte. One pass collects the
 * k elements ranked at or above it (in any order), and a bitonic sort of those k (shared/sort.ts) puts them in
 * order.
 * Work: 9 passes over x plus a sort of k, never a sort of all of x.
 *
 * State (u32): [0] prefix hi, [1] prefix lo, [2] mask hi, [3] mask lo, [4] rank still sought within the
 * matching elements, [5] collected count, [8..263] histogram.
 *
 * float16 / bfloat16 elements are ranked by their widened f32 values (exact, so the same order) and the values
 * are moved as their bit patterns.
 *
 * x is read where it lies, over its strides (`rank` collapsed dims, their sizes then x's offset and strides in the
 * parameter words): a transposed gradient — what a Linear weight's backward hands SIFT's hook — needs no copy.
 */
import { type Elem, LINEAR_GROUP, binding, halfFunctions, linearMain, moveElement, paramBlock, pu, storage, stridedOffsets, valueType } from '../wgsl/common.js';

/** Parameter words describing x: `rank` sizes, then x's offset and `rank` strides. */
export const topkAbsViewWords = (rank: number): number => 2 * rank + 1;

/** WGSL setting `xo`, the offset in x of logical element `lin`; x's words start at `at`. */
const xOffset = (lin: string, rank: number, at: number): string => stridedOffsets(lin, rank, at, [{ name: 'xo', at: at + rank }]);

export const TOPK_ABS_STATE_WORDS = 8 + 256;

function keyFn(elem: Elem): string {
  const type = valueType(elem);
  if (type === 'f32') return 'fn mag_key(v: f32) -> u32 { return min(bitcast<u32>(v) & 0x7fffffffu, 0x7f800000u); }';
  // abs(i32 min) wraps to itself, whose bits read as 2^31: the right magnitude.
  if (type === 'i32') return 'fn mag_key(v: i32) -> u32 { return bitcast<u32>(abs(v)); }';
  return 'fn mag_key(v: u32) -> u32 { return v; }';
}

/** Words: n, pass (0–7), invocations in the grid, then x's view (`topkAbsViewWords`). */
export function topkAbsHistogramSource(type: Elem, rank: number, wg: number): string {
  return `${paramBlock(3 + topkAbsViewWords(rank))}
@group(0) @binding(1) var<storage, read_write> state: array<atomic<u32>>;
${binding(2, 'x', type, false)}
${halfFunctions(type)}
var<workgroup> hist: array<atomic<u32>, 256>;
${keyFn(type)}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    for (var b = lid; b < 256u; b += ${wg}u) { atomicStore(&hist[b], 0u); }
    workgroupBarrier();
    let pass_ix = ${pu(1)};
    let pre = vec2<u32>(atomicLoad(&state[0]), atomicLoad(&state[1]));
    let mask = vec2<u32>(atomicLoad(&state[2]), atomicLoad(&state[3]));
    let shift = 24u - 8u * (pass_ix & 3u);
    for (var i = group * ${wg}u + lid; i < ${pu(0)}; i += ${pu(2)}) {
        ${xOffset('i', rank, 3)}
        let rank = vec2<u32>(mag_key(x_at(u32(xo))), ~i);
        if (all((rank & mask) == pre)) {
            let word = select(rank.y, rank.x, pass_ix < 4u);
            atomicAdd(&hist[(word >> shift) & 0xffu], 1u);
        }
    }
    workgroupBarrier();
    for (var b = lid; b < 256u; b += ${wg}u) {
        let c = atomicLoad(&hist[b]);
        if (c != 0u) { atomicAdd(&state[8u + b], c); }
    }
}
`;
}

/** Words: pass, k. Picks the byte holding the sought rank, narrows the prefix, clears the histogram. */
export function topkAbsPickSource(): string {
  return `${paramBlock(2)}
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@compute @workgroup_size(1)
fn main() {
    let pass_ix = ${pu(0)};
    var want = select(state[4], ${pu(1)}, pass_ix == 0u);
    var digit = 0u;
    for (var b = 255i; b >= 0i; b--) {
        let c = state[8u + u32(b)];
        if (c >= want) { digit = u32(b); break; }
        want -= c;
    }
    for (var b = 0u; b < 256u; b++) { state[8u + b] = 0u; }
    state[4] = want;
    let shift = 24u - 8u * (pass_ix & 3u);
    let w = select(1u, 0u, pass_ix < 4u);
    state[w] = state[w] | (digit << shift);
    state[2u + w] = state[2u + w] | (0xffu << shift);
}
`;
}

/** Words: n, then x's view. Appends every element ranked at or above the k-th (exactly k of them) to `pairs`. */
export function topkAbsCollectSource(type: Elem, rank: number, wg: number): string {
  return `${paramBlock(1 + topkAbsViewWords(rank))}
@group(0) @binding(1) var<storage, read_write> pairs: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> state: array<atomic<u32>>;
${binding(3, 'x', type, false)}
${halfFunctions(type)}
${keyFn(type)}
${linearMain(wg, 'i')}
    if (i >= ${pu(0)}) { return; }
    ${xOffset('i', rank, 1)}
    let key = mag_key(x_at(u32(xo)));
    let hi = atomicLoad(&state[0]);
    let lo = atomicLoad(&state[1]);
    if (key > hi || (key == hi && ~i >= lo)) {
        pairs[atomicAdd(&state[5], 1u)] = vec2<u32>(key, ~i);
    }
}
`;
}

/** Words: k, then x's view. values[t] = x[index], indices[t] = index of the t-th sorted pair. */
export function topkAbsFinishSource(type: Elem, rank: number, wg: number): string {
  return `${paramBlock(1 + topkAbsViewWords(rank))}
${binding(1, 'values', type, true)}
${storage(2, 'indices', 'i32', true)}
@group(0) @binding(3) var<storage, read> pairs: array<vec2<u32>>;
${binding(4, 'x', type, false)}
${halfFunctions(type)}
${linearMain(wg, 't')}
    if (t >= ${pu(0)}) { return; }
    let i = ~pairs[t].y;
    indices[t] = i32(i);
    ${xOffset('i', rank, 1)}
    ${moveElement('values', type, 't', 'x', type, 'u32(xo)')}
}
`;
}
