import type { BinaryOp } from '@siftjs/tensor';

/** The exports of elementwise-f32.wat (byte offsets into the heap, strides in elements). */
export interface ElementwiseKernels {
  binary(op: number, a: number, sa: number, b: number, sb: number, out: number, n: number): void;
  accumulate(acc: number, x: number, n: number): void;
  narrow(out: number, acc: number, n: number): void;
  /** Σ of n contiguous float32 at byte x, in float64. */
  sum(x: number, n: number): number;
  /** The same sum, stored as a float64 at byte dst. */
  sumTo(x: number, n: number, dst: number): void;
  adamw(p: number, g: number, m: number, v: number, n: number, b1: number, c1: number, b2: number, c2: number, decay: number, step: number, bc2: number, eps: number): void;
  /** kernels/sampledMatmul.ts's chunk, the same bits: acc[j] += Σᵢ a[r[j]·c + i]·g[col[j]·c + i] (byte offsets). */
  sampledDots(aBase: number, gBase: number, r: number, col: number, acc: number, k: number, c: number): void;
  /** dst[i·dRow + j] = src[i·sRow + j·sCol] over rows × cols of 4-byte elements (byte pointers, element strides). */
  copy32(src: number, dst: number, rows: number, cols: number, sRow: number, sCol: number, dRow: number): void;
}

/** Op codes of `binary`: the ops whose f32 SIMD result is bitwise the TypeScript kernels' result. */
export const SIMD_BINARY_OPS: Partial<Record<BinaryOp, number>> = { add: 0, sub: 1, mul: 2, div: 3 };

/** Rows shorter than this stay in TypeScript: a call into wasm per row costs more than it saves. */
export const MIN_ROW = 16;
