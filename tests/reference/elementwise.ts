import { type Ref, broadcastShapes, map, readBroadcast, size, unravel, zip } from './core.js';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, accurate to about one ulp (checked against 40-digit values on [−6.25, 6.25]).
 *
 * - |x| < 1: the Maclaurin series 2/√π Σ (−1)ⁿ x^(2n+1) / (n!(2n+1)); its terms are small, so the alternating
 *   signs lose nothing that matters.
 * - 1 ≤ |x| < 6: 1 − erfc(x), erfc from Laplace's continued fraction
 *   erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated bottom-up from 300 levels
 *   (converged to double precision for x ≥ 1). erfc ≤ 0.16 there, so its small relative error barely shows.
 * - |x| ≥ 6: erfc(6) ≈ 2e−17 is below half an ulp of 1, so erf is ±1.
 */
export function erfScalar(x: number): number {
  if (Number.isNaN(x) || x === 0) return x; // keeps the sign of zero, like C's erf
  if (x < 0) return -erfScalar(-x);
  if (x < 1) {
    let sum = 0;
    let term = x; // (−1)ⁿ x^(2n+1) / n!
    for (let n = 0; n < 100; n++) {
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) <= 1e-17 * Math.abs(sum)) break;
      term *= (-x * x) / (n + 1);
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  if (x >= 6) return 1;
  return 1 - erfcScalar(x);
}

/**
 * erfc(x) = 1 − erf(x) without the cancellation for large x: below 1, 1 − erf(x) (erfc ≥ 0.157 there); from 1,
 * Laplace's continued fraction erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated
 * bottom-up from 300 levels (converged to double precision for x ≥ 1). Below −1, 2 − erfc(−x).
 */
export function erfcScalar(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < -1) return 2 - erfcScalar(-x);
  if (x < 1) return 1 - erfScalar(x);
  if (x === Infinity) return 0;
  let f = x;
  for (let n = 300; n >= 1; n--) f = x + n / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** Logistic function 1/(1 + e^(−v)), written to avoid overflow of e^(−v) for very negative v. */
export function sigmoidScalar(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

// ---- unary ----
export const neg = (x: Ref): Ref => map(x, (v) => -v);
export const exp = (x: Ref): Ref => map(x, Math.exp);
export const log = (x: Ref): Ref => map(x, Math.log);
export const sqrt = (x: Ref): Ref => map(x, Math.sqrt);
export const rsqrt = (x: Ref): Ref => map(x, (v) => 1 / Math.sqrt(v));
export const abs = (x: Ref): Ref => map(x, Math.abs);
export const sign = (x: Ref): Ref => map(x, Math.sign);
export const sin = (x: Ref): Ref => map(x, Math.sin);
export const cos = (x: Ref): Ref => map(x, Math.cos);
export const tanh = (x: Ref): Ref => map(x, Math.tanh);
export const sigmoid = (x: Ref): Ref => map(x, sigmoidScalar);
export const relu = (x: Ref): Ref => map(x, (v) => (v > 0 ? v : Number.isNaN(v) ? v : 0));
export const erf = (x: Ref): Ref => map(x, erfScalar);
/** x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
export const geluErf = (x: Ref): Ref => map(x, (v) => 0.5 * v * (1 + erfScalar(v / Math.SQRT2)));
/** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export const geluTanh = (x: Ref): Ref =>
  map(x, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
/** x·sigmoid(x). */
export const silu = (x: Ref): Ref => map(x, (v) => v * sigmoidScalar(v));
export const square = (x: Ref): Ref => map(x, (v) => v * v);
export const reciprocal = (x: Ref): Ref => map(x, (v) => 1 / v);

/** min(max(v, lo), hi) elementwise (NaN stays NaN). Pass ±Infinity for a one-sided clamp. */
export const clamp = (x: Ref, lo: number, hi: number): Ref => map(x, (v) => Math.min(Math.max(v, lo), hi));

// ---- binary, with NumPy broadcasting ----
export const add = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => x + y);
export const sub = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => x - y);
export const mul = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => x * y);
export const div = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => x / y);
export const pow = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => Math.pow(x, y));
/** Elementwise max; NaN propagates (like torch.maximum). */
export const maximum = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => Math.max(x, y));
/** Elementwise min; NaN propagates (like torch.minimum). */
export const minimum = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => Math.min(x, y));
export const eq = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => (x === y ? 1 : 0));
export const ne = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => (x !== y ? 1 : 0));
export const lt = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => (x < y ? 1 : 0));
export const le = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => (x <= y ? 1 : 0));
export const gt = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => (x > y ? 1 : 0));
export const ge = (a: Ref, b: Ref): Ref => zip(a, b, (x, y) => (x >= y ? 1 : 0));

/** cond ≠ 0 ? a : b, with all three broadcast together. */
export function where(cond: Ref, a: Ref, b: Ref): Ref {
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape), b.shape);
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = readBroadcast(cond, idx) !== 0 ? readBroadcast(a, idx) : readBroadcast(b, idx);
  }
  return { shape, data: out };
}

/** x with `value` wherever mask ≠ 0 (mask broadcasts against x). */
export function maskedFill(x: Ref, mask: Ref, value: number): Ref {
  return where(mask, { shape: [], data: Float64Array.of(value) }, x);
}

/** mean((a − b)²) over all elements (a and b broadcast), as a rank-0 Ref. */
export function mseLoss(a: Ref, b: Ref): Ref {
  const d = sub(a, b);
  let s = 0;
  for (let i = 0; i < d.data.length; i++) s += d.data[i] * d.data[i];
  return { shape: [], data: Float64Array.of(s / d.data.length) };
}

/** x · mask / (1 − p), mask broadcast against x. p = 1 drops everything (zeros), as torch does. */
export function dropoutWithMask(x: Ref, mask: Ref, p: number): Ref {
  return zip(x, mask, (v, m) => (p === 1 ? 0 : (v * m) / (1 - p)));
}
