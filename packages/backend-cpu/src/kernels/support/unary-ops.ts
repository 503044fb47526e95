import type { TypedArray, UnaryOp } from '@siftjs/tensor';
import { erf, gelu, geluGrad, geluTanh, geluTanhGrad, sigmoid } from './math.js';

/** The unary ops per element, in float64 (kernels/unary.ts's TypeScript tier). */
export type Fn1 = (x: number) => number;

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

/**
 * One row of an elementwise op with the op written out, for the hot float ops. A loop calling `f` per element
 * sees every op at one call site, which V8 cannot inline (megamorphic): measured 20-30 ns per element, against
 * ~1 ns for these loops (and the transcendental's own cost).
 */
export type Row1 = (x: TypedArray, i: number, s: number, out: TypedArray, o: number, n: number) => void;

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
