/** AdamW as PyTorch defines it, in float64 with float32 state, and the tolerance its f32 rounding allows: the reference
 * adamw.test.ts and adamwIncrement.test.ts measure the GPU's kernels against. */
import type { AdamWHyper } from '@siftjs/tensor';
import fc from 'fast-check';

export const hyperArb = fc.record({
  lr: fc.double({ min: 1e-4, max: 0.1, noNaN: true }),
  beta1: fc.double({ min: 0.8, max: 0.95, noNaN: true }),
  beta2: fc.double({ min: 0.9, max: 0.9999, noNaN: true }),
  eps: fc.constantFrom(1e-8, 1e-6),
  weightDecay: fc.constantFrom(0, 0.01, 0.1),
});

/**
 * PyTorch's AdamW in float64, written out from its definition, with each state stored as float32 between steps
 * (as the tensors hold it). Returns, per element, the magnitudes the GPU's f32 rounding is measured against:
 * the sizes of the terms each new state sums (they may cancel), and of the update built from them.
 */
export interface Scales {
  p: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

export function step(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: AdamWHyper): Scales {
  const n = p.length;
  const sc = { p: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n) };
  const [bc1, bc2] = [1 - h.beta1 ** h.step, 1 - h.beta2 ** h.step];
  for (let i = 0; i < n; i++) {
    const mi = h.beta1 * m[i] + (1 - h.beta1) * g[i];
    const vi = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
    const denom = Math.sqrt(vi / bc2) + h.eps;
    const upd = (h.lr * (mi / bc1)) / denom;
    sc.m[i] = Math.abs(h.beta1 * m[i]) + Math.abs((1 - h.beta1) * g[i]);
    sc.v[i] = Math.abs(h.beta2 * v[i]) + Math.abs((1 - h.beta2) * g[i] * g[i]);
    sc.p[i] = Math.abs(p[i]) + (h.lr * (sc.m[i] / bc1)) / denom;
    p[i] = p[i] - h.lr * h.weightDecay * p[i] - upd;
    m[i] = mi;
    v[i] = vi;
  }
  return sc;
}

/**
 * |got − want| within a few f32 ulps of `scale`: β₁, 1 − β₁ (…) are rounded to f32, each product and sum rounds,
 * and so does the stored result — about 4 ulps for m and v, 8 for the parameter (a dozen operations).
 */
export function expectState(what: string, got: ArrayLike<number>, want: Float32Array, scale: Float64Array, ulps: number): void {
  for (let i = 0; i < want.length; i++) {
    const tol = ulps * 2 ** -24 * scale[i] + 1e-30;
    if (!(Math.abs(got[i] - want[i]) <= tol)) throw new Error(`${what}: [${i}] = ${got[i]}, expected ${want[i]} (±${tol})`);
  }
}
