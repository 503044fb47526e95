import type { BinaryOp, DType, TypedArray, UnaryOp, View } from '@siftjs/tensor';
import { collapse, forEachRow } from '../strided.js';
import { erf, gelu, geluGrad, geluTanh, geluTanhGrad, sigmoid } from './math.js';

type Geometry = Pick<View, 'shape' | 'strides' | 'offset'>;
type Fn1 = (x: number) => number;
type Fn2 = (a: number, b: number) => number;

export const UNARY: Record<UnaryOp, Fn1> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid,
  relu: (x) => (x > 0 ? x : x === x ? 0 : x),
  erf,
  gelu,
  geluTanh,
  geluGrad,
  geluTanhGrad,
  silu: (x) => x * sigmoid(x),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  floor: Math.floor,
  not: (x) => (x ? 0 : 1),
  isnan: (x) => (x !== x ? 1 : 0),
};

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

/**
 * One row of an elementwise op with the op written out, for the hot float ops. A loop calling `f` per element
 * sees every op at one call site, which V8 cannot inline (megamorphic): measured 20-30 ns per element, against
 * ~1 ns for these loops (and the transcendental's own cost).
 */
type Row1 = (x: TypedArray, i: number, s: number, out: TypedArray, o: number, n: number) => void;
type Row2 = (a: TypedArray, i: number, sa: number, b: TypedArray, k: number, sb: number, out: TypedArray, o: number, n: number) => void;

export const UNARY_ROWS: Partial<Record<UnaryOp, Row1>> = {
  neg: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) out[o + j] = -x[i];
  },
  abs: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) out[o + j] = Math.abs(x[i]);
  },
  exp: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) out[o + j] = Math.exp(x[i]);
  },
  log: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) out[o + j] = Math.log(x[i]);
  },
  sqrt: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) out[o + j] = Math.sqrt(x[i]);
  },
  rsqrt: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) out[o + j] = 1 / Math.sqrt(x[i]);
  },
  tanh: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) out[o + j] = Math.tanh(x[i]);
  },
  sigmoid: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) out[o + j] = sigmoid(x[i]);
  },
  geluTanh: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) out[o + j] = geluTanh(x[i]);
  },
  geluTanhGrad: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) out[o + j] = geluTanhGrad(x[i]);
  },
  square: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) {
      const v = x[i];
      out[o + j] = v * v;
    }
  },
  reciprocal: (x, i, s, out, o, n) => {
    for (let j = 0; j < n; j++, i += s) out[o + j] = 1 / x[i];
  },
};

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

/** out (contiguous, fresh) = f(x) over a strided view; `row`, where given, is f written out over one row. */
export function mapUnary(f: Fn1, x: TypedArray, xg: Geometry, out: TypedArray, row?: Row1): void {
  const walk = collapse(xg.shape, [xg.strides]);
  const s = walk.strides[0][walk.strides[0].length - 1];
  let o = 0;
  forEachRow(walk, [xg.offset], (off, n) => {
    if (row) {
      row(x, off[0], s, out, o, n);
      o += n;
      return;
    }
    let i = off[0];
    for (let j = 0; j < n; j++, i += s) out[o++] = f(x[i]);
  });
}

/** out (contiguous, fresh) = f(a, b) for two strided views of one shape; `row`: f written out over one row. */
export function mapBinary(f: Fn2, a: TypedArray, ag: Geometry, b: TypedArray, bg: Geometry, out: TypedArray, row?: Row2): void {
  const walk = collapse(ag.shape, [ag.strides, bg.strides]);
  const last = walk.shape.length - 1;
  const sa = walk.strides[0][last];
  const sb = walk.strides[1][last];
  let o = 0;
  if (row) {
    forEachRow(walk, [ag.offset, bg.offset], (off, n) => {
      row(a, off[0], sa, b, off[1], sb, out, o, n);
      o += n;
    });
    return;
  }
  if (walk.shape.length === 1 && sa === 1 && sb === 1) {
    // The common case: same-shape contiguous operands.
    const ao = ag.offset;
    const bo = bg.offset;
    const n = walk.shape[0];
    for (let j = 0; j < n; j++) out[j] = f(a[ao + j], b[bo + j]);
    return;
  }
  forEachRow(walk, [ag.offset, bg.offset], (off, n) => {
    let i = off[0];
    let k = off[1];
    for (let j = 0; j < n; j++, i += sa, k += sb) out[o++] = f(a[i], b[k]);
  });
}

export function mapWhere(
  c: TypedArray,
  cg: Geometry,
  a: TypedArray,
  ag: Geometry,
  b: TypedArray,
  bg: Geometry,
  out: TypedArray,
): void {
  const walk = collapse(ag.shape, [cg.strides, ag.strides, bg.strides]);
  const last = walk.shape.length - 1;
  const [sc, sa, sb] = walk.strides.map((s) => s[last]);
  let o = 0;
  forEachRow(walk, [cg.offset, ag.offset, bg.offset], (off, n) => {
    let ic = off[0];
    let ia = off[1];
    let ib = off[2];
    for (let j = 0; j < n; j++, ic += sc, ia += sa, ib += sb) out[o++] = c[ic] ? a[ia] : b[ib];
  });
}

/** Copies a strided view into a strided destination of the same shape (conversion by the typed arrays). */
export function copyStrided(src: TypedArray, sg: Geometry, dst: TypedArray, dg: Geometry, convert?: Fn1): void {
  const walk = collapse(sg.shape, [sg.strides, dg.strides]);
  const last = walk.shape.length - 1;
  const ss = walk.strides[0][last];
  const ds = walk.strides[1][last];
  forEachRow(walk, [sg.offset, dg.offset], (off, n) => {
    let i = off[0];
    let k = off[1];
    if (convert) for (let j = 0; j < n; j++, i += ss, k += ds) dst[k] = convert(src[i]);
    else if (ss === 1 && ds === 1 && src.constructor === dst.constructor) dst.set(src.subarray(i, i + n), k);
    // a broadcast value (an expanded scalar gradient, a bias column): one fill
    else if (ss === 0 && ds === 1) dst.fill(src[i], k, k + n);
    else for (let j = 0; j < n; j++, i += ss, k += ds) dst[k] = src[i];
  });
}

/** How values convert into `to`: to int truncates toward zero (NaN → 0), to bool is "non-zero". */
export function converter(to: DType): Fn1 | undefined {
  if (to === 'bool') return (x) => (x !== 0 && x === x ? 1 : x !== x ? 1 : 0);
  if (to === 'int32') return (x) => (x !== x ? 0 : Math.trunc(x) | 0);
  return undefined;
}
