import { noGrad, scope, type Tensor } from '@siftjs/tensor';

export interface AdamWSettings {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/**
 * One AdamW step on the sparse increment δ of weights w = base + δ, in place on `delta`, `m`, `v`.
 *
 * It is PyTorch's AdamW on the weight components — decoupled decay w ← w(1 − lr·λ), then
 * w ← w − lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε) — written as a change of δ:
 *
 *   δ ← δ − lr·λ·(base + δ) − lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε)
 *
 * Stepping δ rather than w keeps updates far below w's resolution (ulp(w)) from being rounded away, and makes
 * the fine-tuned weight exactly fl(base + δ): what a saved delta reproduces bit for bit.
 *
 * `step` is the step count t for bias correction: a number shared by all k components, or a tensor of per-
 * component counts (re-selection brings in components whose moments start from zero).
 */
export function incrementAdamW(base: Tensor, delta: Tensor, grad: Tensor, m: Tensor, v: Tensor, step: number | Tensor, h: AdamWSettings): void {
  noGrad(() =>
    scope(() => {
      m.copy_(m.mul(h.beta1).add(grad.mul(1 - h.beta1)));
      v.copy_(v.mul(h.beta2).add(grad.square().mul(1 - h.beta2)));
      let update: Tensor;
      if (typeof step === 'number') {
        const bc1 = 1 - h.beta1 ** step;
        const bc2 = 1 - h.beta2 ** step;
        update = m.div(v.sqrt().div(Math.sqrt(bc2)).add(h.eps)).mul(h.lr / bc1);
      } else {
        const bc1 = step.mul(Math.log(h.beta1)).exp().neg().add(1);
        const bc2 = step.mul(Math.log(h.beta2)).exp().neg().add(1);
        update = m.div(v.sqrt().div(bc2.sqrt()).add(h.eps)).mul(h.lr).div(bc1);
      }
      const decayed = h.weightDecay === 0 ? update : update.add(base.add(delta).mul(h.lr * h.weightDecay));
      delta.copy_(delta.sub(decayed));
    }),
  );
}
