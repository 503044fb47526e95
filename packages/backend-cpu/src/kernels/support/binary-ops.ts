import type { BinaryOp, DType, TypedArray } from '@siftjs/tensor';

/** The binary ops per element, in float64 (kernels/binary.ts's TypeScript tier). */
export type Fn2 = (a: number, b: number) => number;

/** One row of a binary op with the op written out, for the hot float ops (see unary-ops.ts's Row1 for why). */
export type Row2 = (a: TypedArray, i: number, sa: number, b: TypedArray, k: number, sb: number, out: TypedArray, o: number, n: number) => void;

export const BINARY: Record<BinaryOp, Fn2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  // NaN propagates through maximum/minimum, as in PyTorch.
  maximum: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b),
  minimum: (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  and: (a, b) => (a && b ? 1 : 0),
  or: (a, b) => (a || b ? 1 : 0),
};

/** Integer division truncates toward zero, as C and torch.div(rounding_mode='trunc') on ints. */
const INT_BINARY: Partial<Record<BinaryOp, Fn2>> = {
  div: (a, b) => (b === 0 ? 0 : Math.trunc(a / b)),
  mul: (a, b) => Math.imul(a, b),
  pow: (a, b) => (b < 0 ? 0 : Math.pow(a, b) | 0),
};

export function binaryFn(op: BinaryOp, dtype: DType): Fn2 {
  return (dtype === 'int32' && INT_BINARY[op]) || BINARY[op];
}

/** Float ops only: int32 division, multiplication and powers have their own rules (INT_BINARY). */
export const BINARY_ROWS: Partial<Record<BinaryOp, Row2>> = {
  add: (a, i, sa, b, k, sb, out, o, n) => {
    for (let j = 0; j < n; j++, i += sa, k += sb) out[o + j] = a[i] + b[k];
  },
  sub: (a, i, sa, b, k, sb, out, o, n) => {
    for (let j = 0; j < n; j++, i += sa, k += sb) out[o + j] = a[i] - b[k];
  },
  mul: (a, i, sa, b, k, sb, out, o, n) => {
    for (let j = 0; j < n; j++, i += sa, k += sb) out[o + j] = a[i] * b[k];
  },
  div: (a, i, sa, b, k, sb, out, o, n) => {
    for (let j = 0; j < n; j++, i += sa, k += sb) out[o + j] = a[i] / b[k];
  },
  pow: (a, i, sa, b, k, sb, out, o, n) => {
    // A constant small integer power (x², x³ in gelu's derivative, …) by multiplication: Math.pow costs ~100 ns
    // here. x·x is exact in float64 and x·x·x rounds once, so float32 results match Math.pow (5·10⁶ random
    // x checked); float64 results could differ in the last bit, so float64 keeps Math.pow.
    const e = sb === 0 && out instanceof Float32Array ? b[k] : Number.NaN;
    if (e === 2) {
      for (let j = 0; j < n; j++, i += sa) {
        const v = a[i];
        out[o + j] = v * v;
      }
    } else if (e === 3) {
      for (let j = 0; j < n; j++, i += sa) {
        const v = a[i];
        out[o + j] = v * v * v;
      }
    } else {
      for (let j = 0; j < n; j++, i += sa, k += sb) out[o + j] = Math.pow(a[i], b[k]);
    }
  },
};
