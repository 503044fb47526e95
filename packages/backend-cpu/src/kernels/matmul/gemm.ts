/**
 * Single-matrix GEMM in plain TypeScript: C (+)= A·B with arbitrary strides on A and B.
 *
 * Blocking follows GotoBLAS/BLIS (a KC×NC panel of B and an MC×KC block of A are packed into contiguous scratch,
 * which also makes transposed or strided operands as fast as plain ones), but the micro-kernel is shaped for what
 * V8's optimizing compiler does with scalar code rather than for registers:
 *
 * - Every array load costs a bounds check, and TurboFan schedules all loads of a loop body first and all
 *   products before all sums, so a classic MR×NR register tile (c_ij += a_i·b_j) spills heavily. Measured here,
 *   every tile shape from 2×4 to 8×8 compiled to about 3 machine instructions per flop (≈4 GFLOP/s).
 * - Instead the kernel holds a U×NR = 8×16 chunk of B in locals. They are loop-invariant in the row loop, so the
 *   register allocator leaves them in stack slots that the multiplies read as memory operands (no extra
 *   instruction), and each row of A costs only 8 loads for 128 multiply-adds. The sums go to a float64 strip
 *   acc[row][16] that stays in L1; its stores order the arithmetic, so nothing spills. About 1.6 instructions
 *   per flop, ≈7 GFLOP/s for the kernel alone.
 * - Packed panels are plain JS arrays of doubles (PACKED_DOUBLE elements): their loads skip the base+offset
 *   arithmetic of typed arrays (≈10% faster than Float64Array here), and float32 inputs are widened once when
 *   packed, so the kernel sums in float64 throughout.
 *
 * Every element of C is summed in the same order (per KC block: 8-term chunks in k order, then added to C)
 * whatever its position, so results do not depend on how a product is split into row or column blocks.
 */
export type FloatArray = Float32Array | Float64Array;

/**
 * C[m, n] (+)= Σ_k A[m, k]·B[k, n] for one matrix pair. A and B are strided views (element offsets and strides,
 * any non-negative strides, 0 and transposed layouts included); C is row-major with row stride `ldc` from `cOff`.
 * `accumulate` false overwrites C (K = 0 then leaves zeros). `direct` says the whole product is small
 * (`isSmallProduct`): callers that split one product across threads pass the whole product's value, for kernels
 * whose small-product path sums in another order. The TypeScript kernel needs no such hint — its two paths give
 * bitwise identical results — and picks a path from each call's shape.
 */
export type Gemm = (
  M: number, N: number, K: number,
  A: FloatArray, aOff: number, aRowStride: number, aColStride: number,
  B: FloatArray, bOff: number, bRowStride: number, bColStride: number,
  C: FloatArray, cOff: number, ldc: number,
  accumulate: boolean,
  direct?: boolean,
  /**
   * Byte offset in the heap of the whole of B already packed by the WebAssembly kernel's `prepackB` (0: none).
   * Only that kernel reads it; it is passed only where every thread runs that kernel.
   */
  packedB?: number,
) => void;

/**
 * Products this small skip packing in kernels that need the hint (the WebAssembly one sends them here). Measured
 * for the TypeScript kernel, packing already pays from about 16³; it chooses for itself (see `makeGemm`).
 */
export function isSmallProduct(M: number, N: number, K: number): boolean {
  return M * N * K <= 32 * 1024;
}

/**
 * The kernel with its own scratch panels. Self-contained (it refers to nothing outside its body), so worker
 * threads can be built from its source text and run the very same arithmetic.
 */
export function makeGemm(): Gemm {
  /** k-depth of one chunk of B held in locals: 8 loads per row of A feed 8·NR multiply-adds. */
  const U = 8;
  /** Columns of one strip of B (and of the accumulator strip); 8×16 = 128 locals. Wider strips gain little. */
  const NR = 16;
  // Block sizes, measured (MC 64–256, KC 128–1024, NC 256–2048) for a 32 KiB L1d / 512 KiB L2 per core: the
  // A block fills L2, the accumulator strip (MC·NR doubles = 16 KiB) stays in L1, and a deep KC halves how often
  // the strip is flushed into C compared with 256.
  /** Depth of a packed block: C is updated once per KC steps of k. */
  const KC = 512;
  /** Rows of a packed A block: MC·KC doubles = 512 KiB, re-read for every strip of B. */
  const MC = 128;
  /** Columns of a packed B panel: KC·NC doubles = 4 MiB (L3), each strip read once per A block. */
  const NC = 1024;
  /**
   * The unpacked path takes products of at most DIRECT_MACS multiply-adds and skinny ones — fewer than 8 rows
   * (the kernel's per-chunk loads of B are then not amortized) or fewer than 6 columns (a 16-wide strip would be
   * mostly padding). Measured crossovers; from 16³ up packing pays.
   */
  const DIRECT_MACS = 4096;
  const DIRECT_ROWS = 7;
  const DIRECT_COLS = 5;
  /** Columns per pass of the unpacked path (its row of sums). */
  const DIRECT_NB = 512;

  // Scratch, allocated on the first packed product and reused: the packed A block, the packed B panel, and the
  // MC×NR float64 accumulator strip (all zero between strips).
  let packA: number[] = [];
  let packB: number[] = [];
  let strip: number[] = [];
  let rowSums: number[] = [];

  function gemm(
    M: number, N: number, K: number,
    A: FloatArray, aOff: number, aRowStride: number, aColStride: number,
    B: FloatArray, bOff: number, bRowStride: number, bColStride: number,
    C: FloatArray, cOff: number, ldc: number,
    accumulate: boolean,
  ): void {
    if (M <= 0 || N <= 0) return;
    if (!accumulate) for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
    if (K <= 0) return;
    if (M * N * K <= DIRECT_MACS || M <= DIRECT_ROWS || N <= DIRECT_COLS) {
      directLoop(M, N, K, A, aOff, aRowStride, aColStride, B, bOff, bRowStride, bColStride, C, cOff, ldc);
      return;
    }
    if (strip.length === 0) {
      packA = doubles(MC * KC);
      packB = doubles(Math.ceil(NC / NR) * NR * KC);
      strip = doubles(MC * NR);
    }
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        const kcPad = Math.ceil(kc / U) * U;
        packPanelOfB(B, bOff + pc * bRowStride + jc * bColStride, bRowStride, bColStride, kc, kcPad, nc);
        for (let ic = 0; ic < M; ic += MC) {
          const mc = Math.min(MC, M - ic);
          packBlockOfA(A, aOff + ic * aRowStride + pc * aColStride, aRowStride, aColStride, mc, kc);
          for (let jr = 0; jr < nc; jr += NR) {
            kernel(kcPad, packA, packB, jr * kcPad, strip, mc);
            flushStrip(C, cOff + ic * ldc + jc + jr, ldc, mc, Math.min(NR, nc - jr));
          }
        }
      }
    }
  }

  /** A PACKED_DOUBLE_ELEMENTS array of n zeros (a literal double array grown by push keeps that kind). */
  function doubles(n: number): number[] {
    const a = [0.5];
    for (let i = 1; i < n; i++) a.push(0);
    a[0] = 0;
    return a;
  }

  /**
   * A[mc×kc] → packA as chunks of U columns: chunk q holds, row after row, A[i, qU .. qU+U) (zero past kc), so
   * the kernel streams it with one running index.
   */
  function packBlockOfA(A: FloatArray, off: number, rs: number, cs: number, mc: number, kc: number): void {
    const dst = packA;
    let o = 0;
    for (let p0 = 0; p0 < kc; p0 += U) {
      const w = Math.min(U, kc - p0);
      for (let i = 0; i < mc; i++, o += U) {
        const src = off + i * rs + p0 * cs;
        for (let u = 0; u < w; u++) dst[o + u] = A[src + u * cs];
        for (let u = w; u < U; u++) dst[o + u] = 0;
      }
    }
  }

  /**
   * B[kc×nc] → packB as strips of NR columns: strip s holds, for each k < kcPad, B[k, sNR .. sNR+NR) (zero past
   * kc and past nc). Strip s starts at s·NR·kcPad.
   */
  function packPanelOfB(B: FloatArray, off: number, rs: number, cs: number, kc: number, kcPad: number, nc: number): void {
    const dst = packB;
    let o = 0;
    for (let j0 = 0; j0 < nc; j0 += NR) {
      const w = Math.min(NR, nc - j0);
      for (let p = 0; p < kcPad; p++, o += NR) {
        const src = off + p * rs + j0 * cs;
        const valid = p < kc ? w : 0;
        for (let j = 0; j < valid; j++) dst[o + j] = B[src + j * cs];
        for (let j = valid; j < NR; j++) dst[o + j] = 0;
      }
    }
  }

  /** C[rows×cols] += the accumulator strip, and clears the strip (all NR columns) for the next one. */
  function flushStrip(C: FloatArray, c0: number, ldc: number, rows: number, cols: number): void {
    const s = strip;
    for (let i = 0; i < rows; i++) {
      const c = c0 + i * ldc;
      const r = i * NR;
      for (let j = 0; j < cols; j++) C[c + j] += s[r + j];
      for (let j = 0; j < NR; j++) s[r + j] = 0;
    }
  }

  /**
   * acc[rows×NR] += Apacked[rows×kc] · Bstrip[kc×NR], one 8-deep chunk of k at a time: the chunk of B is loaded
   * into 128 locals once (b{u}{j} = B[k0 + u, j], j in hex) and reused for every row. Unrolled by hand on purpose:
   * the named locals are what makes it fast.
   */
  function kernel(kc: number, A: number[], B: number[], b: number, acc: number[], rows: number): void {
    let a = 0;
    for (let k0 = 0; k0 < kc; k0 += U, b += U * NR) {
      const b00 = B[b], b01 = B[b + 1], b02 = B[b + 2], b03 = B[b + 3],
            b04 = B[b + 4], b05 = B[b + 5], b06 = B[b + 6], b07 = B[b + 7],
            b08 = B[b + 8], b09 = B[b + 9], b0a = B[b + 10], b0b = B[b + 11],
            b0c = B[b + 12], b0d = B[b + 13], b0e = B[b + 14], b0f = B[b + 15];
      const b10 = B[b + 16], b11 = B[b + 17], b12 = B[b + 18], b13 = B[b + 19],
            b14 = B[b + 20], b15 = B[b + 21], b16 = B[b + 22], b17 = B[b + 23],
            b18 = B[b + 24], b19 = B[b + 25], b1a = B[b + 26], b1b = B[b + 27],
            b1c = B[b + 28], b1d = B[b + 29], b1e = B[b + 30], b1f = B[b + 31];
      const b20 = B[b + 32], b21 = B[b + 33], b22 = B[b + 34], b23 = B[b + 35],
            b24 = B[b + 36], b25 = B[b + 37], b26 = B[b + 38], b27 = B[b + 39],
            b28 = B[b + 40], b29 = B[b + 41], b2a = B[b + 42], b2b = B[b + 43],
            b2c = B[b + 44], b2d = B[b + 45], b2e = B[b + 46], b2f = B[b + 47];
      const b30 = B[b + 48], b31 = B[b + 49], b32 = B[b + 50], b33 = B[b + 51],
            b34 = B[b + 52], b35 = B[b + 53], b36 = B[b + 54], b37 = B[b + 55],
            b38 = B[b + 56], b39 = B[b + 57], b3a = B[b + 58], b3b = B[b + 59],
            b3c = B[b + 60], b3d = B[b + 61], b3e = B[b + 62], b3f = B[b + 63];
      const b40 = B[b + 64], b41 = B[b + 65], b42 = B[b + 66], b43 = B[b + 67],
            b44 = B[b + 68], b45 = B[b + 69], b46 = B[b + 70], b47 = B[b + 71],
            b48 = B[b + 72], b49 = B[b + 73], b4a = B[b + 74], b4b = B[b + 75],
            b4c = B[b + 76], b4d = B[b + 77], b4e = B[b + 78], b4f = B[b + 79];
      const b50 = B[b + 80], b51 = B[b + 81], b52 = B[b + 82], b53 = B[b + 83],
            b54 = B[b + 84], b55 = B[b + 85], b56 = B[b + 86], b57 = B[b + 87],
            b58 = B[b + 88], b59 = B[b + 89], b5a = B[b + 90], b5b = B[b + 91],
            b5c = B[b + 92], b5d = B[b + 93], b5e = B[b + 94], b5f = B[b + 95];
      const b60 = B[b + 96], b61 = B[b + 97], b62 = B[b + 98], b63 = B[b + 99],
            b64 = B[b + 100], b65 = B[b + 101], b66 = B[b + 102], b67 = B[b + 103],
            b68 = B[b + 104], b69 = B[b + 105], b6a = B[b + 106], b6b = B[b + 107],
            b6c = B[b + 108], b6d = B[b + 109], b6e = B[b + 110], b6f = B[b + 111];
      const b70 = B[b + 112], b71 = B[b + 113], b72 = B[b + 114], b73 = B[b + 115],
            b74 = B[b + 116], b75 = B[b + 117], b76 = B[b + 118], b77 = B[b + 119],
            b78 = B[b + 120], b79 = B[b + 121], b7a = B[b + 122], b7b = B[b + 123],
            b7c = B[b + 124], b7d = B[b + 125], b7e = B[b + 126], b7f = B[b + 127];
      const end = a + rows * U;
      for (let c = 0; a < end; a = (a + U) | 0, c = (c + NR) | 0) {
        const a0 = A[a], a1 = A[(a + 1) | 0], a2 = A[(a + 2) | 0], a3 = A[(a + 3) | 0];
        const a4 = A[(a + 4) | 0], a5 = A[(a + 5) | 0], a6 = A[(a + 6) | 0], a7 = A[(a + 7) | 0];
        acc[c] =
          (acc[c] + a0 * b00 + a1 * b10 + a2 * b20 + a3 * b30) +
          (a4 * b40 + a5 * b50 + a6 * b60 + a7 * b70);
        acc[(c + 1) | 0] =
          (acc[(c + 1) | 0] + a0 * b01 + a1 * b11 + a2 * b21 + a3 * b31) +
          (a4 * b41 + a5 * b51 + a6 * b61 + a7 * b71);
        acc[(c + 2) | 0] =
          (acc[(c + 2) | 0] + a0 * b02 + a1 * b12 + a2 * b22 + a3 * b32) +
          (a4 * b42 + a5 * b52 + a6 * b62 + a7 * b72);
        acc[(c + 3) | 0] =
          (acc[(c + 3) | 0] + a0 * b03 + a1 * b13 + a2 * b23 + a3 * b33) +
          (a4 * b43 + a5 * b53 + a6 * b63 + a7 * b73);
        acc[(c + 4) | 0] =
          (acc[(c + 4) | 0] + a0 * b04 + a1 * b14 + a2 * b24 + a3 * b34) +
          (a4 * b44 + a5 * b54 + a6 * b64 + a7 * b74);
        acc[(c + 5) | 0] =
          (acc[(c + 5) | 0] + a0 * b05 + a1 * b15 + a2 * b25 + a3 * b35) +
          (a4 * b45 + a5 * b55 + a6 * b65 + a7 * b75);
        acc[(c + 6) | 0] =
          (acc[(c + 6) | 0] + a0 * b06 + a1 * b16 + a2 * b26 + a3 * b36) +
          (a4 * b46 + a5 * b56 + a6 * b66 + a7 * b76);
        acc[(c + 7) | 0] =
          (acc[(c + 7) | 0] + a0 * b07 + a1 * b17 + a2 * b27 + a3 * b37) +
          (a4 * b47 + a5 * b57 + a6 * b67 + a7 * b77);
        acc[(c + 8) | 0] =
          (acc[(c + 8) | 0] + a0 * b08 + a1 * b18 + a2 * b28 + a3 * b38) +
          (a4 * b48 + a5 * b58 + a6 * b68 + a7 * b78);
        acc[(c + 9) | 0] =
          (acc[(c + 9) | 0] + a0 * b09 + a1 * b19 + a2 * b29 + a3 * b39) +
          (a4 * b49 + a5 * b59 + a6 * b69 + a7 * b79);
        acc[(c + 10) | 0] =
          (acc[(c + 10) | 0] + a0 * b0a + a1 * b1a + a2 * b2a + a3 * b3a) +
          (a4 * b4a + a5 * b5a + a6 * b6a + a7 * b7a);
        acc[(c + 11) | 0] =
          (acc[(c + 11) | 0] + a0 * b0b + a1 * b1b + a2 * b2b + a3 * b3b) +
          (a4 * b4b + a5 * b5b + a6 * b6b + a7 * b7b);
        acc[(c + 12) | 0] =
          (acc[(c + 12) | 0] + a0 * b0c + a1 * b1c + a2 * b2c + a3 * b3c) +
          (a4 * b4c + a5 * b5c + a6 * b6c + a7 * b7c);
        acc[(c + 13) | 0] =
          (acc[(c + 13) | 0] + a0 * b0d + a1 * b1d + a2 * b2d + a3 * b3d) +
          (a4 * b4d + a5 * b5d + a6 * b6d + a7 * b7d);
        acc[(c + 14) | 0] =
          (acc[(c + 14) | 0] + a0 * b0e + a1 * b1e + a2 * b2e + a3 * b3e) +
          (a4 * b4e + a5 * b5e + a6 * b6e + a7 * b7e);
        acc[(c + 15) | 0] =
          (acc[(c + 15) | 0] + a0 * b0f + a1 * b1f + a2 * b2f + a3 * b3f) +
          (a4 * b4f + a5 * b5f + a6 * b6f + a7 * b7f);
      }
    }
  }

  /**
   * Small or skinny products, unpacked: for each row of A and each KC block, a row of sums over up to DIRECT_NB
   * columns, accumulated in exactly the packed path's order, so both paths give the same bits.
   */
  function directLoop(
    M: number, N: number, K: number,
    A: FloatArray, aOff: number, ars: number, acs: number,
    B: FloatArray, bOff: number, brs: number, bcs: number,
    C: FloatArray, cOff: number, ldc: number,
  ): void {
    if (rowSums.length === 0) rowSums = doubles(DIRECT_NB);
    const sums = rowSums;
    for (let j0 = 0; j0 < N; j0 += DIRECT_NB) {
      const nb = Math.min(DIRECT_NB, N - j0);
      for (let i = 0; i < M; i++) {
        const c = cOff + i * ldc + j0;
        for (let pc = 0; pc < K; pc += KC) {
          const kc = Math.min(KC, K - pc);
          rowTimesPanel(kc, A, aOff + i * ars + pc * acs, acs, B, bOff + pc * brs + j0 * bcs, brs, bcs, nb, sums);
          for (let j = 0; j < nb; j++) {
            C[c + j] += sums[j];
            sums[j] = 0;
          }
        }
      }
    }
  }

  /**
   * sums[j] += Σ_{k<kc} A[a + k·as]·B[b + k·brs + j·bcs] for j < nb, grouped like `kernel`: 8-deep chunks of k,
   * each added as (s + p0 + p1 + p2 + p3) + (p4 + p5 + p6 + p7).
   */
  function rowTimesPanel(
    kc: number, A: FloatArray, a: number, as: number,
    B: FloatArray, b: number, brs: number, bcs: number, nb: number, sums: number[],
  ): void {
    const r1 = brs, r2 = 2 * brs, r3 = 3 * brs, r4 = 4 * brs, r5 = 5 * brs, r6 = 6 * brs, r7 = 7 * brs;
    let k0 = 0;
    for (; k0 + U <= kc; k0 += U, a += U * as, b += U * brs) {
      const a0 = A[a], a1 = A[a + as], a2 = A[a + 2 * as], a3 = A[a + 3 * as];
      const a4 = A[a + 4 * as], a5 = A[a + 5 * as], a6 = A[a + 6 * as], a7 = A[a + 7 * as];
      for (let j = 0, q = b; j < nb; j++, q += bcs) {
        sums[j] =
          (sums[j] + a0 * B[q] + a1 * B[q + r1] + a2 * B[q + r2] + a3 * B[q + r3]) +
          (a4 * B[q + r4] + a5 * B[q + r5] + a6 * B[q + r6] + a7 * B[q + r7]);
      }
    }
    if (k0 === kc) return;
    // The last, partial chunk (1 to 7 terms): the packed path multiplies zero padding there, so a missing
    // product is +0.
    const n = kc - k0;
    for (let j = 0, q = b; j < nb; j++, q += bcs) {
      const p0 = A[a] * B[q];
      const p1 = n > 1 ? A[a + as] * B[q + r1] : 0;
      const p2 = n > 2 ? A[a + 2 * as] * B[q + r2] : 0;
      const p3 = n > 3 ? A[a + 3 * as] * B[q + r3] : 0;
      const p4 = n > 4 ? A[a + 4 * as] * B[q + r4] : 0;
      const p5 = n > 5 ? A[a + 5 * as] * B[q + r5] : 0;
      const p6 = n > 6 ? A[a + 6 * as] * B[q + r6] : 0;
      sums[j] = (sums[j] + p0 + p1 + p2 + p3) + (p4 + p5 + p6 + 0);
    }
  }

  return gemm;
}

const shared = makeGemm();

/**
 * C[M×N] (+)= A[M×K]·B[K×N] on this thread's shared scratch (see `Gemm` for the arguments). `accumulate` false
 * overwrites C; K = 0 then leaves zeros.
 */
export function gemm(
  M: number, N: number, K: number,
  A: FloatArray, aOff: number, aRowStride: number, aColStride: number,
  B: FloatArray, bOff: number, bRowStride: number, bColStride: number,
  C: FloatArray, cOff: number, ldc: number,
  accumulate: boolean,
  direct?: boolean,
): void {
  shared(M, N, K, A, aOff, aRowStride, aColStride, B, bOff, bRowStride, bColStride, C, cOff, ldc, accumulate, direct);
}
