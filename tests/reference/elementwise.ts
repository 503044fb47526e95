import { type Ref, broadcastShapes, map, readBroadcast, size, unravel, zip } from './core.js';

/**
 * erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, by its Maclaurin series Σ (−1)ⁿ x^(2n+1) / (n!(2n+1)) for |x| ≤ 2.5 (summed
 * with extra care: terms are tiny by n ≈ 60) and by the asymptotic continued fraction of erfc beyond.
 */
export function erfScalar(x: number): number {
  if (x < 0) return -erfScalar(-x);
  if (x > 6) return 1;
  if (x <= 2.5) {
    let sum = 0;
    let term = x; // (−1)ⁿ x^(2n+1) / n!
    for (let n = 0; n < 200; n++) {
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-18) break;
      term *= (-x * x) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + 1/2 / (x + 1 / (x + 3/2 / (x + …)))), evaluated from the tail upwards.
  let f = x;
  for (let n = 80; n >= 1; n--) f = x + n / 2 / f;
  return 1 - Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

export const neg = (x: Ref) => map(x, (v) => -v);
export const exp = (x: Ref) => map(x, Math.exp);
export const log = (x: Ref) => map(x, Math.log);
export const sqrt = (x: Ref) => map(x, Math.sqrt);
export const rsqrt = (x: Ref) => map(x, (v) => 1 / Math.sqrt(v));
export const abs = (x: Ref) => map(x, Math.abs);
export const sign = (x: Ref) => map(x, Math.sign);
export const sin = (x: Ref) => map(x, Math.sin);
export const cos = (x: Ref) => map(x, Math.cos);
export const tanh = (x: Ref) => map(x, Math.tanh);
export const sigmoid = (x: Ref) => map(x, (v) => 1 / (1 + Math.exp(-v)));
export const relu = (x: Ref) => map(x, (v) => (v > 0 ? v : 0));
export const erf = (x: Ref) => map(x, erfScalar);
export const geluErf = (x: Ref) => map(x, (v) => 0.5 * v * (1 + erfScalar(v / Math.SQRT2)));
export const geluTanh = (x: Ref) =>
  map(x, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
export const silu = (x: Ref) => map(x, (v) => v / (1 + Math.exp(-v)));
export const square = (x: Ref) => map(x, (v) => v * v);
export const reciprocal = (x: Ref) => map(x, (v) => 1 / v);
export const clamp = (x: Ref, lo: number, hi: number) => map(x, (v) => Math.min(Math.max(v, lo), hi));

export const add = (a: Ref, b: Ref) => zip(a, b, (x, y) => x + y);
export const sub = (a: Ref, b: Ref) => zip(a, b, (x, y) => x - y);
export const mul = (a: Ref, b: Ref) => zip(a, b, (x, y) => x * y);
export const div = (a: Ref, b: Ref) => zip(a, b, (x, y) => x / y);
export const pow = (a: Ref, b: Ref) => zip(a, b, (x, y) => x ** y);
export const maximum = (a: Ref, b: Ref) => zip(a, b, (x, y) => (x > y ? x : y));
export const minimum = (a: Ref, b: Ref) => zip(a, b, (x, y) => (x < y ? x : y));
export const eq = (a: Ref, b: Ref) => zip(a, b, (x, y) => (x === y ? 1 : 0));
export const ne = (a: Ref, b: Ref) => zip(a, b, (x, y) => (x !== y ? 1 : 0));
export const lt = (a: Ref, b: Ref) => zip(a, b, (x, y) => (x < y ? 1 : 0));
export const le = (a: Ref, b: Ref) => zip(a, b, (x, y) => (x <= y ? 1 : 0));
export const gt = (a: Ref, b: Ref) => zip(a, b, (x, y) => (x > y ? 1 : 0));
export const ge = (a: Ref, b: Ref) => zip(a, b, (x, y) => (x >= y ? 1 : 0));

/** cond ≠ 0 ? a : b, all three broadcast together. */
export function where(cond: Ref, a: Ref, b: Ref): Ref {
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape), b.shape);
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = readBroadcast(cond, idx) !== 0 ? readBroadcast(a, idx) : readBroadcast(b, idx);
  }
  return { shape, data: out };
}

export function maskedFill(x: Ref, mask: Ref, value: number): Ref {
  return where(mask, { shape: [], data: Float64Array.of(value) }, x);
}

export function mseLoss(a: Ref, b: Ref): number {
  const d = sub(a, b);
  return d.data.reduce((s, v) => s + v * v, 0) / d.data.length;
}

export function dropoutWithMask(x: Ref, mask: Ref, p: number): Ref {
  return zip(x, mask, (v, m) => (m ? v / (1 - p) : 0));
}
