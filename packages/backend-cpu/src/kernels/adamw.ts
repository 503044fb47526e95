import type { AdamWHyper, TypedArray } from '@siftjs/tensor';

/**
 * PyTorch's AdamW, element by element in float64:
 *   p ← p·(1 − lr·λ);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
 *   p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps)
 * `at` maps element i to its place in `p` (sparse AdamW writes values back into the dense parameter).
 */
export function adamw(
  p: TypedArray,
  g: TypedArray,
  m: TypedArray,
  v: TypedArray,
  n: number,
  h: AdamWHyper,
  values?: TypedArray,
  at?: Int32Array,
): void {
  const { beta1, beta2, eps } = h;
  const { decay, stepSize, bc2 } = adamwConstants(h);
  const target = values ?? p;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + (1 - beta1) * gi;
    const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const pi = target[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2 + eps);
    target[i] = pi;
    if (at) p[at[i]] = target[i];
  }
}

/** The per-step constants of the update (shared with the WebAssembly kernel, which must use the same values). */
export function adamwConstants(h: AdamWHyper): { decay: number; stepSize: number; bc2: number } {
  const { lr, beta1, beta2, weightDecay, step } = h;
  return { decay: 1 - lr * weightDecay, stepSize: lr / (1 - beta1 ** step), bc2: Math.sqrt(1 - beta2 ** step) };
}
