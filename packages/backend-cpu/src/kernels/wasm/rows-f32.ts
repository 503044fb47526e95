import type { UnaryOp } from '@siftjs/tensor';

/** The exports of rows-f32.wat: exp, tanh, both gelus and their derivatives, sigmoid, erf and softmax rows in float32 lanes. */
export interface RowsKernels {
  unary(op: number, x: number, out: number, n: number): void;
  softmax(x: number, out: number, rows: number, cols: number, log: number): void;
  softmaxBackward(y: number, dy: number, dx: number, rows: number, cols: number, log: number): void;
}

/** Op codes of `unary`. */
export const SIMD_UNARY_OPS: Partial<Record<UnaryOp, number>> = { exp: 0, tanh: 1, geluTanh: 2, sigmoid: 3, geluTanhGrad: 4, erf: 5, gelu: 6, geluGrad: 7 };
