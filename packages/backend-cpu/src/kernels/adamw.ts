import { type AdamWHyper, type AdamWIncrementArgs, type TypedArray, adamwConstants } from '@siftjs/tensor';
import { checkIndex } from './indexing.js';

/**
 * PyTorch's AdamW, element by element in float64:
 *   p ← p·(1 − lr·λ);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
 *   p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps)
 */
export function adamw(p: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, n: number, h: AdamWHyper): void {
  const { beta1, beta2, eps, decay, stepSize, bc2 } = adamwConstants(h);
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + (1 - beta1) * gi;
    const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2 + eps);
  }
}

/**
 * SIFT's step (the contract's adamwIncrement) in float64, one component at a time: the same AdamW arithmetic on the
 * increment δ, then param[idx] = base + δ — the sum of the two stored values, rounded once to the parameter's dtype,
 * which is exactly fl(base + δ) as applyDelta and mergeInto compute it.
 */
export function adamwIncrement(
  a: Omit<AdamWIncrementArgs, 'param' | 'indices' | 'base' | 'delta' | 'grad' | 'm' | 'v' | 'steps'>,
  param: TypedArray,
  idx: Int32Array,
  base: TypedArray,
  delta: TypedArray,
  g: TypedArray,
  m: TypedArray,
  v: TypedArray,
  steps: TypedArray | null,
): void {
  const { lr, beta1, beta2, eps, decay } = a.c;
  for (let i = 0; i < a.k; i++) checkIndex('adamwIncrement', idx[i], a.paramSize);
  for (let i = 0; i < a.k; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + (1 - beta1) * gi;
    const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    let { stepSize, bc2 } = a.c;
    if (steps) {
      const t = steps[i] + 1;
      steps[i] = t;
      stepSize = lr / (1 - beta1 ** t);
      bc2 = Math.sqrt(1 - beta2 ** t);
    }
    delta[i] = delta[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2 + eps);
    param[idx[i]] = base[i] + delta[i];
  }
}
