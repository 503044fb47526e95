/**
 * Gathers and scatters by int32 index (embeddings, SIFT's flat indices).
 *
 * Indices live on the GPU, so a bad one cannot be thrown at dispatch as on the CPU: the kernel skips it (a
 * gather writes 0) and records the first one in a shared error word, which the backend turns into a
 * RangeError at the next read or sync (index-errors.ts).
 *
 * Scatter-adds with repeated indices (embedding gradients, scatterFlat 'add') must be deterministic, and WGSL has
 * no float atomics; a CAS loop on the f32 bits would add in whatever order the invocations race, so the sum
 * could change from run to run. Instead the (index, position) pairs are sorted (sort.ts, a bitonic sort:
 * O(n log² n) work but fully parallel), and one invocation per run of equal indices (per column, for rows) adds
 * its sources in position order. That is the CPU's order exactly, so the sums are bit-identical to the CPU's,
 * and one long run costs no more than the CPU's loop over it.
 *
 * Sorted pairs hold (~index, ~position): the sort orders them descending, i.e. by index then position ascending,
 * and the zero pairs that pad the sort to a power of two land after every real pair.
 */
import { LINEAR_GROUP, type Scalar, paramBlock, pi, pu, storage, stridedOffsets } from './common.js';

/** Error codes, reported with the CPU backend's op names. */
export const IndexOp = { embedding: 1, embeddingBackward: 2, gatherFlat: 3, scatterFlat: 4, adamwIncrement: 5 } as const;
export const INDEX_OP_NAMES: Record<number, string> = { 1: 'embedding', 2: 'embedding backward', 3: 'gatherFlat', 4: 'scatterFlat', 5: 'adamwIncrement' };

/** The error word [code, index, limit] at `binding`, and report_index() to record the first bad index. */
export function INDEX_ERROR(binding: number): string {
  return `@group(0) @binding(${binding}) var<storage, read_write> index_error: array<atomic<u32>, 4>;
fn report_index(code: u32, index: i32, limit: u32) {
    // Weak CAS may fail spuriously: retry until some code is in place.
    loop {
        let r = atomicCompareExchangeWeak(&index_error[0], 0u, code);
        if (r.exchanged) {
            atomicStore(&index_error[1], bitcast<u32>(index));
            atomicStore(&index_error[2], limit);
            break;
        }
        if (r.old_value != 0u) { break; }
    }
}`;
}

const zero = (t: Scalar) => (t === 'f32' ? '0.0' : t === 'i32' ? '0' : '0u');

const HEAD = (wg: number) => `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let t = group * ${wg}u + lid;`;

/** Words: n (ids × D), D, V, table offset, row stride, column stride, ids offset. out[t] = table[ids[t / D], t % D]. */
export const GATHER_ROWS_WORDS = 7;

export function gatherRowsSource(type: Scalar, wg: number): string {
  return `${paramBlock(GATHER_ROWS_WORDS)}
${storage(1, 'out', type, true)}
${storage(2, 'table', type, false)}
${storage(3, 'ids', 'i32', false)}
${INDEX_ERROR(4)}
${HEAD(wg)}
    if (t >= ${pu(0)}) { return; }
    let d = ${pu(1)};
    let id = ids[${pu(6)} + t / d];
    if (u32(id) >= ${pu(2)}) {
        if (t % d == 0u) { report_index(${IndexOp.embedding}u, id, ${pu(2)}); }
        out[t] = ${zero(type)};
        return;
    }
    out[t] = table[${pi(3)} + id * ${pi(4)} + i32(t % d) * ${pi(5)}];
}
`;
}

/** Words: n, x size, idx offset, x shape[rank], x offset, x strides[rank]. out[t] = x.flat[idx[t]]. */
export function gatherFlatWords(rank: number): number {
  return 4 + 2 * rank;
}

export function gatherFlatSource(type: Scalar, rank: number, wg: number): string {
  const offsets = stridedOffsets('u32(id)', rank, 3, [{ name: 'xo', at: 3 + rank }]);
  return `${paramBlock(gatherFlatWords(rank))}
${storage(1, 'out', type, true)}
${storage(2, 'x', type, false)}
${storage(3, 'idx', 'i32', false)}
${INDEX_ERROR(4)}
${HEAD(wg)}
    if (t >= ${pu(0)}) { return; }
    let id = idx[${pu(2)} + t];
    if (u32(id) >= ${pu(1)}) {
        report_index(${IndexOp.gatherFlat}u, id, ${pu(1)});
        out[t] = ${zero(type)};
        return;
    }
    ${offsets}
    out[t] = x[xo];
}
`;
}

/**
 * Words: n, dst size, idx offset, src offset, error code. dst[idx[t]] = src[t]. One invocation per index: with
 * repeated indices one of the writes wins, unordered (the tensor API asks for distinct indices with 'set').
 */
export const SCATTER_SET_WORDS = 5;

export function scatterSetSource(type: Scalar, wg: number): string {
  return `${paramBlock(SCATTER_SET_WORDS)}
${storage(1, 'dst', type, true)}
${storage(2, 'idx', 'i32', false)}
${storage(3, 'src', type, false)}
${INDEX_ERROR(4)}
${HEAD(wg)}
    if (t >= ${pu(0)}) { return; }
    let id = idx[${pu(2)} + t];
    if (u32(id) >= ${pu(1)}) { report_index(${pu(4)}, id, ${pu(1)}); return; }
    dst[id] = src[${pu(3)} + t];
}
`;
}

/** Words: n, padded size K, ids offset. pairs[s] = (~ids[s], ~s) for s < n, (0, 0) up to K. */
export const SORT_KEYS_WORDS = 3;

export function sortKeysSource(wg: number): string {
  return `${paramBlock(SORT_KEYS_WORDS)}
@group(0) @binding(1) var<storage, read_write> pairs: array<vec2<u32>>;
${storage(2, 'ids', 'i32', false)}
${HEAD(wg)}
    if (t >= ${pu(1)}) { return; }
    if (t < ${pu(0)}) { pairs[t] = ~vec2<u32>(bitcast<u32>(ids[${pu(2)} + t]), t); } else { pairs[t] = vec2<u32>(0u, 0u); }
}
`;
}

/** Words: n, dst size, src offset. Per run of equal indices in the sorted pairs: dst[i] += src[positions…] in order. */
export const SCATTER_ADD_WORDS = 3;

export function scatterAddSource(type: Scalar, wg: number): string {
  return `${paramBlock(SCATTER_ADD_WORDS)}
${storage(1, 'dst', type, true)}
@group(0) @binding(2) var<storage, read> pairs: array<vec2<u32>>;
${storage(3, 'src', type, false)}
${INDEX_ERROR(4)}
${HEAD(wg)}
    let n = ${pu(0)};
    if (t >= n) { return; }
    let key = pairs[t].x;
    if (t > 0u && pairs[t - 1u].x == key) { return; }
    let id = ~key;
    if (id >= ${pu(1)}) { report_index(${IndexOp.scatterFlat}u, bitcast<i32>(id), ${pu(1)}); return; }
    var acc = dst[id];
    for (var s = t; s < n && pairs[s].x == key; s++) { acc += src[${pu(2)} + ~pairs[s].y]; }
    dst[id] = acc;
}
`;
}

/**
 * Words: n (ids × D), D, rows, src offset, ids. Invocation (s, j): when sorted pair s starts a run, out[id, j] =
 * Σ src[position, j] over the run, in position order (out starts at zero, as the CPU's).
 */
export const SCATTER_ROWS_WORDS = 5;

export function scatterRowsSource(type: Scalar, wg: number): string {
  return `${paramBlock(SCATTER_ROWS_WORDS)}
${storage(1, 'out', type, true)}
@group(0) @binding(2) var<storage, read> pairs: array<vec2<u32>>;
${storage(3, 'src', type, false)}
${INDEX_ERROR(4)}
${HEAD(wg)}
    if (t >= ${pu(0)}) { return; }
    let d = ${pu(1)};
    let s0 = t / d;
    let j = t % d;
    let key = pairs[s0].x;
    if (s0 > 0u && pairs[s0 - 1u].x == key) { return; }
    let id = ~key;
    if (id >= ${pu(2)}) {
        if (j == 0u) { report_index(${IndexOp.embeddingBackward}u, bitcast<i32>(id), ${pu(2)}); }
        return;
    }
    var acc = ${zero(type)};
    for (var s = s0; s < ${pu(4)} && pairs[s].x == key; s++) { acc += src[${pu(3)} + (~pairs[s].y) * d + j]; }
    out[id * d + j] = acc;
}
`;
}
