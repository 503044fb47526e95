/**
 * Tiled, batched matmul: out[b, m, n] = Σ_k A[b, m, k] · B[b, k, n] over strided operands, so a transposed
 * operand (permuted strides) and a broadcast batch (0 strides) need no copy. Which kernel runs, with which
 * tile and how many K slices, is decided in matmul-plan.ts.
 *
 * Both kernels share one shape: a workgroup of WX × WY invocations computes a BM × BN tile of the output
 * (BM = WY·TM, BN = WX·TN), each invocation holding TM × TN accumulators in registers. K is walked in steps
 * of BK; at each step the workgroup loads a BK × BM slab of A and a BK × BN slab of B into workgroup memory
 * (each invocation loading a few elements), then every invocation does TM·TN multiply-adds per k from
 * registers.
 *
 * - `matmulSource`: any strides. Scalar loads; an invocation owns rows ty + i·WY and columns tx + j·WX
 *   (interleaved, so neighbouring invocations touch neighbouring words).
 * - `matmulVec4Source`: operands bound as array<vec4<f32>>, for layouts where each operand has a unit-stride
 *   axis, that axis a multiple of 4 long, and every other stride and the offset multiples of 4. One load
 *   brings 4 elements; an invocation owns rows and columns in groups of 4 (rows 4·(ty + i·WY) + r, columns
 *   4·(tx + j·WX) + c), so one workgroup-memory read gives 4 rows or 4 columns and the product is
 *   vec4 · splat(scalar) fused multiply-adds. The hot loop is unrolled in the template so the accumulators
 *   stay in registers (a dynamically indexed private array may be spilled to local memory).
 *
 * float16 / bfloat16 operands (either or both; the other may be float32) go through the scalar kernel, whose tile
 * loaders widen each element to f32 on its way into workgroup memory: the products and sums are f32, and the
 * output is rounded once when stored (in the summing kernel when K is split; the partial tiles stay f32).
 *
 * Split-K: the launch grid's z is batch × slices. Slice s reduces k in [s·kChunk, min(K, (s+1)·kChunk)) and
 * writes its partial tile at s·sliceStride; `matmulSplitSumSource` then adds the slices in order 0..S−1, so the
 * result is the same on every run. Without a split S = 1 and kChunk = K.
 */
import { type Elem, binding, halfFunctions, linearMain, paramBlock, pi, pu, storage } from '../wgsl/common.js';

export interface MatmulTile {
  wx: number;
  wy: number;
  tm: number;
  tn: number;
  bk: number;
}

/** The axis along which the vec4 kernel loads 4 consecutive elements of A and of B; `out`: 4-wide stores. */
export interface Vec4Layout {
  /** 'k': A[m, k..k+3] (row-major A); 'm': A[m..m+3, k] (A transposed). */
  a: 'k' | 'm';
  /** 'n': B[k, n..n+3] (row-major B); 'k': B[k..k+3, n] (B transposed, as x·Wᵀ). */
  b: 'n' | 'k';
  /** N is a multiple of 4: whole vec4 output stores. */
  out: boolean;
}

/** Parameter words before the batch dims: M, N, K, batchBase, kChunk, splits, sliceStride. */
const HEAD = 7;

/**
 * Words: M, N, K, batchBase, kChunk, splits, sliceStride, batch dims[rb]; then A: offset, batch strides[rb],
 * s_m, s_k; then B: offset, batch strides[rb], s_k, s_n. For an operand the vec4 kernel loads 4-wide, the
 * offset and strides are in vec4s (the stride along the loaded axis, 1, is not read).
 */
export function matmulParamWords(batchRank: number): number {
  return HEAD + batchRank + 2 * (3 + batchRank);
}

/** Param word positions and the WGSL that finds this workgroup's slice, batch and operand bases. */
function prologue(rb: number): { aAt: number; bAt: number; lines: string } {
  const aAt = HEAD + rb;
  const bAt = aAt + 3 + rb;
  const batchLines: string[] = [];
  if (rb > 0) batchLines.push('var brem = batch;');
  for (let d = rb - 1; d >= 0; d--) {
    batchLines.push(`{ let c = i32(brem % ${pu(HEAD + d)}); brem = brem / ${pu(HEAD + d)}; a_base += c * ${pi(aAt + 1 + d)}; b_base += c * ${pi(bAt + 1 + d)}; }`);
  }
  const lines = `let M = ${pu(0)};
    let N = ${pu(1)};
    let K = ${pu(2)};
    let k_chunk = ${pu(4)};
    let splits = ${pu(5)};
    let slice = wid.z % splits;
    let batch = wid.z / splits + ${pu(3)};
    let k_begin = slice * k_chunk;
    let k_end = min(K, k_begin + k_chunk);
    let out_base = slice * ${pu(6)} + batch * M * N;
    var a_base = ${pi(aAt)};
    var b_base = ${pi(bAt)};
    ${batchLines.join('\n    ')}
    let a_sm = ${pi(aAt + 1 + rb)};
    let a_sk = ${pi(aAt + 2 + rb)};
    let b_sk = ${pi(bAt + 1 + rb)};
    let b_sn = ${pi(bAt + 2 + rb)};
    let tx = lid3.x;
    let ty = lid3.y;
    let tid = ty * WX + tx;
    let m0 = wid.y * BM;
    let n0 = wid.x * BN;`;
  return { aAt, bAt, lines };
}

/** `for` over the loads of one slab: `count` items shared by the workgroup's invocations. */
function cooperative(count: number, threads: number, body: string): string {
  const rounds = Math.ceil(count / threads);
  // The bound check is only needed when the items do not divide evenly among the invocations.
  const guarded = count % threads === 0 ? body : `if (e < ${count}u) {\n            ${body}\n            }`;
  return `for (var l = 0u; l < ${rounds}u; l++) {
            let e = tid + l * THREADS;
            ${guarded}
        }`;
}

/** The storage types of the scalar kernel's operands and output. */
export interface MatmulElems {
  a: Elem;
  b: Elem;
  out: Elem;
}

const F32: MatmulElems = { a: 'f32', b: 'f32', out: 'f32' };

export function matmulSource(t: MatmulTile, batchRank: number, elems: MatmulElems = F32): string {
  const { wx, wy, tm, tn, bk } = t;
  const bm = wy * tm;
  const bn = wx * tn;
  const threads = wx * wy;
  const { lines } = prologue(batchRank);
  const loadA = cooperative(
    bm * bk,
    threads,
    `let mm = e / BK;
            let kk = e % BK;
            let m = m0 + mm;
            let k = k0 + kk;
            var v = 0.0;
            if (m < M && k < k_end) { v = A_at(u32(a_base + i32(m) * a_sm + i32(k) * a_sk)); }
            As[kk * BM + mm] = v;`,
  );
  const loadB = cooperative(
    bk * bn,
    threads,
    `let kk = e / BN;
            let nn = e % BN;
            let n = n0 + nn;
            let k = k0 + kk;
            var v = 0.0;
            if (n < N && k < k_end) { v = B_at(u32(b_base + i32(k) * b_sk + i32(n) * b_sn)); }
            Bs[kk * BN + nn] = v;`,
  );
  return `${paramBlock(matmulParamWords(batchRank))}
${binding(1, 'out', elems.out, true)}
${binding(2, 'A', elems.a, false)}
${binding(3, 'B', elems.b, false)}
${halfFunctions(elems.a, elems.b, elems.out)}
const BM = ${bm}u;
const BN = ${bn}u;
const BK = ${bk}u;
const TM = ${tm}u;
const TN = ${tn}u;
const WX = ${wx}u;
const WY = ${wy}u;
const THREADS = ${threads}u;
// As[k][m] and Bs[k][n]: one k-slice of each tile.
var<workgroup> As: array<f32, ${bm * bk}>;
var<workgroup> Bs: array<f32, ${bk * bn}>;

@compute @workgroup_size(${wx}, ${wy}, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
    ${lines}

    var acc: array<f32, ${tm * tn}>;
    var ar: array<f32, ${tm}>;

    for (var k0 = k_begin; k0 < k_end; k0 += BK) {
        // Element e of the A slab is (m = e / BK, k = e % BK); of the B slab (k = e / BN, n = e % BN).
        ${loadA}
        ${loadB}
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            for (var i = 0u; i < TM; i++) { ar[i] = As[kk * BM + ty + i * WY]; }
            for (var j = 0u; j < TN; j++) {
                let bv = Bs[kk * BN + tx + j * WX];
                for (var i = 0u; i < TM; i++) { acc[i * TN + j] = fma(ar[i], bv, acc[i * TN + j]); }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < TM; i++) {
        let m = m0 + ty + i * WY;
        if (m < M) {
            for (var j = 0u; j < TN; j++) {
                let n = n0 + tx + j * WX;
                if (n < N) { out_set(out_base + m * N + n, acc[i * TN + j]); }
            }
        }
    }
}
`;
}

/**
 * The WGSL that stores `v`, four consecutive k of one row m (or column n), into rows k..k+3 of a k-major tile
 * of vec4s (`rowVec4s` vec4s a row) at vec4 `col`, lane `lane`: the transpose a k-contiguous operand needs.
 */
function storeTransposed(tile: string, rowVec4s: string): string {
  return ['x', 'y', 'z', 'w'].map((c, i) => `${tile}[col + ${i}u * ${rowVec4s}][lane] = v.${c};`).join('\n            ');
}

export function matmulVec4Source(t: MatmulTile, batchRank: number, layout: Vec4Layout): string {
  const { wx, wy, tm, tn, bk } = t;
  if (tm % 4 || tn % 4 || bk % 4) throw new Error(`matmul vec4 tile ${tm}×${tn}, BK ${bk}: each must be a multiple of 4`);
  const bm = wy * tm;
  const bn = wx * tn;
  const threads = wx * wy;
  const [tm4, tn4] = [tm / 4, tn / 4];
  const { lines } = prologue(batchRank);

  // Loads: consecutive invocations take consecutive vec4s of memory (coalesced); a slab loaded along k is
  // transposed on its way into the k-major tile.
  const loadA =
    layout.a === 'm'
      ? cooperative(
          (bk * bm) / 4,
          threads,
          `let kk = e / BM4;
            let mq = e % BM4;
            let m = m0 + mq * 4u;
            let k = k0 + kk;
            var v = vec4<f32>(0.0);
            if (m < M && k < k_end) { v = A[a_base + i32(m / 4u) + i32(k) * a_sk]; }
            As[kk * BM4 + mq] = v;`,
        )
      : cooperative(
          (bm * bk) / 4,
          threads,
          `let mm = e / BK4;
            let kq = e % BK4;
            let m = m0 + mm;
            let k = k0 + kq * 4u;
            var v = vec4<f32>(0.0);
            if (m < M && k < k_end) { v = A[a_base + i32(m) * a_sm + i32(k / 4u)]; }
            let col = kq * 4u * BM4 + mm / 4u;
            let lane = mm % 4u;
            ${storeTransposed('As', 'BM4')}`,
        );
  const loadB =
    layout.b === 'n'
      ? cooperative(
          (bk * bn) / 4,
          threads,
          `let kk = e / BN4;
            let nq = e % BN4;
            let n = n0 + nq * 4u;
            let k = k0 + kk;
            var v = vec4<f32>(0.0);
            if (n < N && k < k_end) { v = B[b_base + i32(k) * b_sk + i32(n / 4u)]; }
            Bs[kk * BN4 + nq] = v;`,
        )
      : cooperative(
          (bn * bk) / 4,
          threads,
          `let nn = e / BK4;
            let kq = e % BK4;
            let n = n0 + nn;
            let k = k0 + kq * 4u;
            var v = vec4<f32>(0.0);
            if (n < N && k < k_end) { v = B[b_base + i32(n) * b_sn + i32(k / 4u)]; }
            let col = kq * 4u * BN4 + nn / 4u;
            let lane = nn % 4u;
            ${storeTransposed('Bs', 'BN4')}`,
        );

  // The unrolled product for one k: TM/4 vec4s of A (4 rows each), TN/4 vec4s of B (4 columns each).
  const step: string[] = [];
  for (let i = 0; i < tm4; i++) step.push(`let a${i} = As[kk * BM4 + ty + ${i}u * WY];`);
  for (let j = 0; j < tn4; j++) step.push(`let b${j} = Bs[kk * BN4 + tx + ${j}u * WX];`);
  for (let i = 0; i < tm4; i++) {
    for (let r = 0; r < 4; r++) {
      for (let j = 0; j < tn4; j++) {
        const q = (i * 4 + r) * tn4 + j;
        step.push(`acc[${q}] = fma(vec4<f32>(a${i}.${'xyzw'[r]}), b${j}, acc[${q}]);`);
      }
    }
  }
  // Unrolled stores: row 4·(ty + i·WY) + r, columns 4·(tx + j·WX)..+3.
  const stores: string[] = [];
  for (let i = 0; i < tm4; i++) {
    for (let r = 0; r < 4; r++) {
      for (let j = 0; j < tn4; j++) {
        stores.push(`put(m0 + (ty + ${i}u * WY) * 4u + ${r}u, n0 + (tx + ${j}u * WX) * 4u, acc[${(i * 4 + r) * tn4 + j}]);`);
      }
    }
  }
  const put = layout.out
    ? `// N is a multiple of 4: the four columns are all in range or all out.
fn put(m: u32, n: u32, v: vec4<f32>) {
    if (m < g_M && n < g_N) { out[(g_out_base + m * g_N + n) / 4u] = v; }
}`
    : `fn put(m: u32, n: u32, v: vec4<f32>) {
    if (m >= g_M) { return; }
    let row = g_out_base + m * g_N;
    for (var c = 0u; c < 4u; c++) {
        if (n + c < g_N) { out[row + n + c] = v[c]; }
    }
}`;

  return `${paramBlock(matmulParamWords(batchRank))}
${storage(1, 'out', layout.out ? 'vec4<f32>' : 'f32', true)}
${storage(2, 'A', 'vec4<f32>', false)}
${storage(3, 'B', 'vec4<f32>', false)}
const BM = ${bm}u;
const BN = ${bn}u;
const BK = ${bk}u;
const BM4 = ${bm / 4}u;
const BN4 = ${bn / 4}u;
const BK4 = ${bk / 4}u;
const WX = ${wx}u;
const WY = ${wy}u;
const THREADS = ${threads}u;
// As[k][m / 4] and Bs[k][n / 4]: one k-slice of each tile, four rows (columns) to a vec4.
var<workgroup> As: array<vec4<f32>, ${(bk * bm) / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${(bk * bn) / 4}>;
var<private> g_M: u32;
var<private> g_N: u32;
var<private> g_out_base: u32;

${put}

@compute @workgroup_size(${wx}, ${wy}, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
    ${lines}
    g_M = M;
    g_N = N;
    g_out_base = out_base;

    // Row 4·(ty + i·WY) + r, column group j: acc[(4i + r)·TN/4 + j].
    var acc: array<vec4<f32>, ${tm * tn4}>;

    for (var k0 = k_begin; k0 < k_end; k0 += BK) {
        ${loadA}
        ${loadB}
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            ${step.join('\n            ')}
        }
        workgroupBarrier();
    }

    ${stores.join('\n    ')}
}
`;
}

/** Words: n (elements of the output), splits. */
export const MATMUL_SPLIT_SUM_WORDS = 2;

/**
 * out[i] = Σ_s part[s·n + i], s = 0..splits−1 in order (a fixed order: the same sum on every run); the f32 sum is
 * rounded once into a half output.
 */
export function matmulSplitSumSource(wg: number, out: Elem = 'f32'): string {
  return `${paramBlock(MATMUL_SPLIT_SUM_WORDS)}
${binding(1, 'out', out, true)}
${storage(2, 'part', 'f32', false)}
${halfFunctions(out)}
${linearMain(wg, 'i')}
    let n = ${pu(0)};
    if (i >= n) { return; }
    var s = part[i];
    for (var j = 1u; j < ${pu(1)}; j++) { s += part[j * n + i]; }
    out_set(i, s);
}
`;
}
