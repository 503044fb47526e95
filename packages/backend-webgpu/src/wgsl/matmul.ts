/**
 * Tiled, batched matmul: out[b, m, n] = Σ_k A[b, m, k] · B[b, k, n] over strided operands, so a transposed
 * operand (permuted strides) and a broadcast batch (0 strides) need no copy.
 *
 * A workgroup of WX × WY invocations computes a BM × BN tile of the output (BM = WY·TM, BN = WX·TN): each
 * invocation holds TM × TN accumulators in registers. The K dimension is walked in steps of BK; at each
 * step the workgroup loads a BM × BK slab of A and a BK × BN slab of B into workgroup memory (each
 * invocation loading a few elements), then every invocation does TM·TN multiply-adds per k from registers.
 * Rows and columns an invocation owns are interleaved (row ty + i·WY, column tx + j·WX), so neighbouring
 * invocations touch neighbouring words of workgroup memory and of the output.
 *
 * The tile shape is chosen from the device's limits (invocations per workgroup, workgroup storage).
 */
import { type KernelLimits } from '../adapter.js';
import { floorPow2, paramBlock, pi, pu, storage } from './common.js';

export interface MatmulTile {
  wx: number;
  wy: number;
  tm: number;
  tn: number;
  bk: number;
}

/** The largest tile of the usual shape that fits the limits. */
export function chooseTile(limits: KernelLimits): MatmulTile {
  const inv = limits.maxComputeInvocationsPerWorkgroup;
  const wx = Math.min(16, floorPow2(limits.maxComputeWorkgroupSizeX));
  let wy = Math.min(16, floorPow2(limits.maxComputeWorkgroupSizeY), floorPow2(Math.floor(inv / wx)));
  wy = Math.max(1, wy);
  const tm = 4;
  const tn = 4;
  let bk = 16;
  while (bk > 1 && (wy * tm * bk + bk * wx * tn) * 4 > limits.maxComputeWorkgroupStorageSize) bk /= 2;
  return { wx, wy, tm, tn, bk };
}

/**
 * Words: M, N, K, batchBase, batch dims[rb], then A: offset, batch strides[rb], s_m, s_k; then B: offset,
 * batch strides[rb], s_k, s_n.
 */
export function matmulParamWords(batchRank: number): number {
  return 4 + batchRank + 2 * (3 + batchRank);
}

export function matmulSource(t: MatmulTile, batchRank: number): string {
  const { wx, wy, tm, tn, bk } = t;
  const bm = wy * tm;
  const bn = wx * tn;
  const threads = wx * wy;
  const rb = batchRank;
  const aAt = 4 + rb;
  const bAt = aAt + 3 + rb;
  const loadsA = Math.ceil((bm * bk) / threads);
  const loadsB = Math.ceil((bk * bn) / threads);
  const batchLines: string[] = [];
  if (rb > 0) batchLines.push('var brem = batch;');
  for (let d = rb - 1; d >= 0; d--) {
    batchLines.push(`{ let c = i32(brem % ${pu(4 + d)}); brem = brem / ${pu(4 + d)}; a_base += c * ${pi(aAt + 1 + d)}; b_base += c * ${pi(bAt + 1 + d)}; }`);
  }
  return `${paramBlock(matmulParamWords(rb))}
${storage(1, 'out', 'f32', true)}
${storage(2, 'A', 'f32', false)}
${storage(3, 'B', 'f32', false)}
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
    let M = ${pu(0)};
    let N = ${pu(1)};
    let K = ${pu(2)};
    let batch = wid.z + ${pu(3)};
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
    let n0 = wid.x * BN;

    var acc: array<f32, ${tm * tn}>;
    for (var i = 0u; i < TM * TN; i++) { acc[i] = 0.0; }
    var ar: array<f32, ${tm}>;

    for (var k0 = 0u; k0 < K; k0 += BK) {
        // Cooperative loads: element e of the A slab is (m = e / BK, k = e % BK); of the B slab (k = e / BN, n = e % BN).
        for (var l = 0u; l < ${loadsA}u; l++) {
            let e = tid + l * THREADS;
            if (e < BM * BK) {
                let mm = e / BK;
                let kk = e % BK;
                let m = m0 + mm;
                let k = k0 + kk;
                var v = 0.0;
                if (m < M && k < K) { v = A[a_base + i32(m) * a_sm + i32(k) * a_sk]; }
                As[kk * BM + mm] = v;
            }
        }
        for (var l = 0u; l < ${loadsB}u; l++) {
            let e = tid + l * THREADS;
            if (e < BK * BN) {
                let kk = e / BN;
                let nn = e % BN;
                let n = n0 + nn;
                let k = k0 + kk;
                var v = 0.0;
                if (n < N && k < K) { v = B[b_base + i32(k) * b_sk + i32(n) * b_sn]; }
                Bs[kk * BN + nn] = v;
            }
        }
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

    let out_base = batch * M * N;
    for (var i = 0u; i < TM; i++) {
        let m = m0 + ty + i * WY;
        if (m < M) {
            for (var j = 0u; j < TN; j++) {
                let n = n0 + tx + j * WX;
                if (n < N) { out[out_base + m * N + n] = acc[i * TN + j]; }
            }
        }
    }
}
`;
}
