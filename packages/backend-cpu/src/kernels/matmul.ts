/**
 * Single-matrix GEMM in plain TypeScript: C (+)= A·B with arbitrary strides on A and B.
 *
 * The structure is the classic one of GotoBLAS/BLIS: B is packed into NR-wide column panels of KC rows (L2-sized),
 * A into MR-tall row panels (L1-sized), and a register-blocked MR×NR micro-kernel walks both panels contiguously
 * with its accumulators in local variables. Packing also turns transposed or strided operands into the same
 * contiguous layout, so they run as fast as plain ones; panels are packed into float64 so the inner loop does no
 * float32→float64 conversions. Edge tiles are packed with zero padding and written back partially.
 */
export type FloatArray = Float32Array | Float64Array;

export type Gemm = (
  M: number, N: number, K: number,
  A: FloatArray, aOff: number, aRowStride: number, aColStride: number,
  B: FloatArray, bOff: number, bRowStride: number, bColStride: number,
  C: FloatArray, cOff: number, ldc: number,
  accumulate: boolean,
  direct: boolean,
) => void;

/** Below this many multiply-adds, packing costs more than it saves: `gemm`'s `direct` argument. */
export function isSmallProduct(M: number, N: number, K: number): boolean {
  return M * N * K <= 32 * 1024;
}

/**
 * The kernel with its scratch panels. Self-contained (it refers to nothing outside its body), so worker threads
 * can be built from its source text and run the very same arithmetic — results do not depend on the thread
 * count. `direct` picks the unpacked loop; callers splitting one product across threads decide it once, from
 * the whole product's size, so every part sums in the same order.
 */
export function makeGemm(): Gemm {
  const MR = 4;
  const NR = 4;
  /** K-depth of a packed block: an MR×KC panel of A (KC·MR·8 bytes = 8 KiB) stays in L1 beside the B micro-panel. */
  const KC = 256;
  /** Rows of A per packed block: MC×KC·8 = 128 KiB, well inside L2 with the B panel. */
  const MC = 64;
  /** Columns of B per packed block: KC×NC·8 = 1 MiB, the L3-resident panel. */
  const NC = 512;
  let packA = new Float64Array(MC * KC);
  let packB = new Float64Array(KC * NC);

  function gemm(
    M: number,
    N: number,
    K: number,
    A: FloatArray,
    aOff: number,
    aRowStride: number,
    aColStride: number,
    B: FloatArray,
    bOff: number,
    bRowStride: number,
    bColStride: number,
    C: FloatArray,
    cOff: number,
    ldc: number,
    accumulate: boolean,
    direct: boolean,
  ): void {
    if (M === 0 || N === 0) return;
    if (!accumulate) for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
    if (K === 0) return;
    if (direct) {
      directLoop(M, N, K, A, aOff, aRowStride, aColStride, B, bOff, bRowStride, bColStride, C, cOff, ldc);
      return;
    }
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        packPanelsOfB(B, bOff + pc * bRowStride + jc * bColStride, bRowStride, bColStride, kc, nc);
        for (let ic = 0; ic < M; ic += MC) {
          const mc = Math.min(MC, M - ic);
          packPanelsOfA(A, aOff + ic * aRowStride + pc * aColStride, aRowStride, aColStride, mc, kc);
          for (let jr = 0; jr < nc; jr += NR) {
            for (let ir = 0; ir < mc; ir += MR) {
              microKernel(kc, ir * kc, jr * kc, C, cOff + (ic + ir) * ldc + jc + jr, ldc, Math.min(MR, mc - ir), Math.min(NR, nc - jr));
            }
          }
        }
      }
    }
  }

  /**
   * Packs a block into panels `width` wide: panel q holds, for each step p < kc, the `width` values
   * src[off + (q·width + i)·across + p·along] (zero past `count`). A packs with across = row stride (MR rows),
   * B with across = column stride (NR columns).
   */
  function pack(dst: Float64Array, src: FloatArray, off: number, across: number, along: number, count: number, kc: number, width: number): void {
    let o = 0;
    for (let q0 = 0; q0 < count; q0 += width) {
      const valid = Math.min(width, count - q0);
      for (let p = 0; p < kc; p++) {
        const base = off + q0 * across + p * along;
        for (let i = 0; i < width; i++) dst[o++] = i < valid ? src[base + i * across] : 0;
      }
    }
  }

  /** A[mc×kc] → MR-row panels in packA. */
  function packPanelsOfA(A: FloatArray, off: number, rs: number, cs: number, mc: number, kc: number): void {
    const need = Math.ceil(mc / MR) * MR * kc;
    if (packA.length < need) packA = new Float64Array(need);
    pack(packA, A, off, rs, cs, mc, kc, MR);
  }

  /** B[kc×nc] → NR-column panels in packB. */
  function packPanelsOfB(B: FloatArray, off: number, rs: number, cs: number, kc: number, nc: number): void {
    const need = Math.ceil(nc / NR) * NR * kc;
    if (packB.length < need) packB = new Float64Array(need);
    pack(packB, B, off, cs, rs, nc, kc, NR);
  }

  /** C[rows×cols] += Apanel·Bpanel over kc, with the 4×4 accumulators held in locals. */
  function microKernel(kc: number, ai: number, bi: number, C: FloatArray, c: number, ldc: number, rows: number, cols: number): void {
    const Ap = packA;
    const Bp = packB;
    let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
    let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
    let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
    let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
    for (let p = 0; p < kc; p++, ai += MR, bi += NR) {
      const a0 = Ap[ai], a1 = Ap[ai + 1], a2 = Ap[ai + 2], a3 = Ap[ai + 3];
      const b0 = Bp[bi], b1 = Bp[bi + 1], b2 = Bp[bi + 2], b3 = Bp[bi + 3];
      c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
      c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
      c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
      c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    }
    if (rows === MR && cols === NR) {
      C[c] += c00; C[c + 1] += c01; C[c + 2] += c02; C[c + 3] += c03;
      c += ldc;
      C[c] += c10; C[c + 1] += c11; C[c + 2] += c12; C[c + 3] += c13;
      c += ldc;
      C[c] += c20; C[c + 1] += c21; C[c + 2] += c22; C[c + 3] += c23;
      c += ldc;
      C[c] += c30; C[c + 1] += c31; C[c + 2] += c32; C[c + 3] += c33;
      return;
    }
    const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) C[c + r * ldc + j] += acc[r * NR + j];
  }

  /** Small products: a plain loop (i, p, j) that streams rows of B. */
  function directLoop(
    M: number, N: number, K: number,
    A: FloatArray, aOff: number, ars: number, acs: number,
    B: FloatArray, bOff: number, brs: number, bcs: number,
    C: FloatArray, cOff: number, ldc: number,
  ): void {
    for (let i = 0; i < M; i++) {
      const crow = cOff + i * ldc;
      for (let p = 0; p < K; p++) {
        const a = A[aOff + i * ars + p * acs];
        if (a === 0) continue;
        const brow = bOff + p * brs;
        for (let j = 0; j < N; j++) C[crow + j] += a * B[brow + j * bcs];
      }
    }
  }

  return gemm;
}

export const gemm: Gemm = makeGemm();
