/** Scalar math the kernels share, in float64. */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);

/**
 * erf to about 1e-16. Below 3: erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) — every term positive, so
 * no cancellation. From 3: erfc by its continued fraction (modified Lentz), which converges fast there.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  let r: number;
  if (ax < 3) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  } else {
    r = 1 - erfcContinuedFraction(ax);
  }
  return x < 0 ? -r : x === 0 ? x : r; // erf(−0) = −0
}

/** erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) for x ≥ 3. */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (INV_SQRT_PI * Math.exp(-x * x)) / f;
}

export function sigmoid(x: number): number {
  // Two forms so exp never overflows.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** erfc(y) for y ≥ 0: 1 − erf(y) below 3 (erfc ≥ 2.2e-5 there, so ~5e-12 relative at worst), else the continued fraction. */
function erfcPos(y: number): number {
  return y < 3 ? 1 - erf(y) : y > 27 ? 0 : erfcContinuedFraction(y);
}

/** Φ(x) = ½·erfc(−x/√2): below 0 from erfc itself, since 1 + erf(x/√2) cancels (at x = −8 it kept one digit). */
function normalCdf(x: number): number {
  return x >= 0 ? 0.5 * (1 + erf(x * Math.SQRT1_2)) : 0.5 * erfcPos(-x * Math.SQRT1_2);
}

export function gelu(x: number): number {
  return x * normalCdf(x);
}

/**
 * 0.5·x·(1 + tanh z), z = √(2/π)(x + 0.044715x³), computed as x·σ(2z) (the same value: ½(1 + tanh z) = σ(2z)), since
 * 1 + tanh z cancels for negative x: at x = −8 it is 0 in float64, where the value is −3.1e-21.
 */
export function geluTanh(x: number): number {
  return x * sigmoid(2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x));
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

// The derivatives are exactly 1 and 0 (in float64) well before these bounds; returning those there keeps ±inf
// from becoming inf·0 = NaN.

/** d/dx gelu(x) = Φ(x) + x·φ(x). */
export function geluGrad(x: number): number {
  if (x > 40) return 1;
  if (x < -40) return 0;
  const g = normalCdf(x) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
  // Negative below x ≈ −0.75: where both terms underflow, the exact value still rounds to −0.
  return x < -1 && g === 0 ? -0 : g;
}

/**
 * d/dx geluTanh(x) = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), t = tanh z, computed with ½(1 + t) = σ(2z) and
 * ½(1 − t²) = 2σ(2z)σ(−2z), which do not cancel for negative x as 1 + t and 1 − t² do.
 */
export function geluTanhGrad(x: number): number {
  if (x > 15) return 1;
  if (x < -15) return 0;
  const z2 = 2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
  const s = sigmoid(z2);
  return s + 2 * x * s * sigmoid(-z2) * SQRT_2_OVER_PI * (1 + 0.134145 * x * x);
}
