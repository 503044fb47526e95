import type { UnaryOp } from '@siftjs/tensor';
import { erfScalar, erfcScalar, sigmoidScalar } from '../../../tests/reference/elementwise.js';

/**
 * The float32 WebAssembly kernels of rows-f32.wat (exp, tanh, sigmoid, both gelus and their derivatives, erf): each
 * op's value in float64 from its definition, and the error the kernel may make, derived from its arithmetic. U is
 * float32's unit roundoff (2⁻²⁴); float32 results are compared with the float64 value, so a bound also covers the
 * last rounding.
 *
 * The pieces, as scripts/fit-f32.py measures them (worst over dense grids, the kernel's float32 evaluation):
 * e^x within 0.92 ulp (≤ 2U relative); the tanh polynomial 0.75 ulp; erf below 1 2.4 ulp (≤ 5U); erfc from 0.5,
 * e^(−y²) included, 3.0 ulp (≤ 6U). A result that underflows rounds once more, to a multiple of 2⁻¹⁴⁹ (2⁻¹⁵⁰ at most);
 * so does an exponential that underflows inside an op, an error then multiplied by what follows it (the τ terms).
 *
 * - exp: 2U·|v| + 2⁻¹⁵⁰.
 * - tanh: the polynomial below 0.625; above, (1 − e)/(1 + e) with e = e^(−2|x|) within 2U: at worst (e = 0.29)
 *   1 − e within 1.8U, 1 + e within 1.6U, the quotient U more: 5U·|v|.
 * - sigmoid: e = e^(−|x|) within 2U, (1 or e)/(1 + e): 5U·|v| + 2⁻¹⁴⁹ (e may be subnormal).
 * - gelu (tanh form) = x·σ(2z), z = x·(c + c₃x²): z within 5U (positive terms; the constants rounded), so e = e^(−2|z|)
 *   within (2 + 10|z|)U, σ(2z) within (4 + 10|z|)U, the product U more: (7 + 10|z|)·U·|v| + (1 + |x|)·τ.
 *   The |z| term is the float32 rounding of z amplified by the exponential, where the value is already small
 *   (at x = −5, 51U relative of a value 7e-4).
 * - its derivative σ(2z) + x·z'·2σ(2z)σ(−2z): σ within (4 + 10|z|)U, the second term (14 + 10|z|)U, the sum U:
 *   (15 + 10|z|)·U·(|σ| + |x·z'·2σσ'|) + (2 + 2|x·z'|)·τ — a bound on the terms, since they cancel where it crosses
 *   zero.
 * - erf: 5U·|v| + 2⁻¹⁵⁰ (below 1 the series; above, 1 − erfc, erfc ≤ 0.16 within 6U).
 * - gelu (exact) = x·Φ(x), y = |x|/√2 rounded (2U, which moves erfcx(y) by 2U and erf(y) by 2U): erfc within 8.3U
 *   (from 0.5: 6U + 2U; below, 1 − erf(y) at erfc ≥ 0.48), so Φ = 1 − ½erfc or ½erfc within 9U, and x·Φ:
 *   10U·|v| + (2 + |x|)·τ (Φ itself underflows below x ≈ −13).
 * - its derivative Φ + x·φ, φ = e^(−x²/2)/√(2π) (x² split exactly: 2U, the products 3U): 10U·(|Φ| + |x·φ|) +
 *   (2 + |x|)·τ.
 * τ = 2⁻¹⁵⁰.
 */
const U = 2 ** -24;
const C = Math.sqrt(2 / Math.PI);

/** z of the tanh gelu, σ(2z) and the derivative's second term, in float64. */
function tanhGelu(x: number) {
  const z = C * (x + 0.044715 * x * x * x);
  const s = sigmoidScalar(2 * z); // = ½(1 + tanh z), without the cancellation for z < 0
  const t2 = x * C * (1 + 3 * 0.044715 * x * x) * 2 * s * sigmoidScalar(-2 * z);
  return { z, s, t2 };
}

/** Φ(x) and x·φ(x) in float64, Φ from erfc (½(1 + erf) cancels below 0). */
function normal(x: number) {
  const phi = x >= 0 ? 1 - 0.5 * erfcScalar(x / Math.SQRT2) : 0.5 * erfcScalar(-x / Math.SQRT2);
  const xd = x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  return { phi, xd };
}

/** The exact value of `op` at x, and the error the float32 kernel may make there. */
export function unaryReference(op: UnaryOp, x: number): { value: number; bound: number } {
  const tiny = 2 ** -150;
  switch (op) {
    case 'exp': {
      const v = Math.exp(x);
      return { value: v, bound: 2 * U * v + tiny };
    }
    case 'tanh': {
      const v = Math.tanh(x);
      return { value: v, bound: 5 * U * Math.abs(v) };
    }
    case 'sigmoid': {
      const v = sigmoidScalar(x);
      return { value: v, bound: 5 * U * v + 2 * tiny };
    }
    case 'geluTanh': {
      const { z, s } = tanhGelu(x);
      const v = x * s;
      return { value: v, bound: (7 + 10 * Math.abs(z)) * U * Math.abs(v) + (1 + Math.abs(x)) * tiny };
    }
    case 'geluTanhGrad': {
      if (Math.abs(x) === Infinity) return { value: x > 0 ? 1 : 0, bound: 0 }; // the limits
      const { z, s, t2 } = tanhGelu(x);
      const zp = C * (1 + 3 * 0.044715 * x * x);
      return { value: s + t2, bound: (15 + 10 * Math.abs(z)) * U * (Math.abs(s) + Math.abs(t2)) + (2 + 2 * Math.abs(x * zp)) * tiny };
    }
    case 'erf': {
      const v = erfScalar(x);
      return { value: v, bound: 5 * U * Math.abs(v) + tiny };
    }
    case 'gelu': {
      const v = x * normal(x).phi;
      return { value: v, bound: 10 * U * Math.abs(v) + (2 + Math.abs(x)) * tiny };
    }
    case 'geluGrad': {
      if (Math.abs(x) === Infinity) return { value: x > 0 ? 1 : 0, bound: 0 };
      const { phi, xd } = normal(x);
      return { value: phi + xd, bound: 10 * U * (Math.abs(phi) + Math.abs(xd)) + (2 + Math.abs(x)) * tiny };
    }
    default:
      throw new Error(`no float32 bound for ${op}`);
  }
}

/** The ops rows-f32.wat computes. */
export const ROW_OPS: UnaryOp[] = ['exp', 'tanh', 'sigmoid', 'geluTanh', 'geluTanhGrad', 'erf', 'gelu', 'geluGrad'];

/**
 * Whether `got` (a float32 result for input x) is within the bound of the exact value. Where the exact value rounds
 * to NaN or ±inf in float32, `got` must be exactly that; at x = ±0, f(±0) exactly (the sign of a zero included).
 * A nonzero exact value that underflows may come out as a zero of either sign (float64 may have underflowed too).
 */
export function withinBound(got: number, x: number, value: number, bound: number): boolean {
  const rounded = Math.fround(value);
  if (Number.isNaN(rounded)) return Number.isNaN(got);
  if (!Number.isFinite(rounded)) return Object.is(got, rounded);
  if (x === 0) return Object.is(got, rounded);
  return Math.abs(got - value) <= bound;
}
