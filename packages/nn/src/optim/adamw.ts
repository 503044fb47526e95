import { adamwUpdate, keep, scope, type Tensor, zerosLike } from '@siftjs/tensor';
import { Optimizer, type OptimizerState, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface AdamWOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

/**
 * AdamW (Loshchilov & Hutter) with PyTorch's exact update: decoupled decay p ← p(1 − lr·λ), moments
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², then p ← p − lr/(1−β₁ᵗ) · m / (√v̂ / √(1−β₂ᵗ) + eps), where v̂ is v, or
 * its running maximum with amsgrad. The common case runs as one fused kernel per parameter.
 */
export class AdamW extends Optimizer<AdamWOptions> {
  constructor(params: ParamsInput<AdamWOptions>, opts: Partial<AdamWOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, ...opts });
  }

  protected initState(p: Tensor): OptimizerState {
    const s: OptimizerState = { step: 0, expAvg: keep(zerosLike(p)), expAvgSq: keep(zerosLike(p)) };
    return s;
  }

  protected update(p: Tensor, grad: Tensor, s: OptimizerState, g: ParamGroup<AdamWOptions>): void {
    const step = (s.step as number) + 1;
    s.step = step;
    const [beta1, beta2] = g.betas;
    const m = s.expAvg as Tensor;
    const v = s.expAvgSq as Tensor;
    if (!g.amsgrad && p.coversStorage() && grad.coversStorage()) {
      adamwUpdate(p, grad, m, v, { lr: g.lr, beta1, beta2, eps: g.eps, weightDecay: g.weightDecay, step });
      return;
    }
    // The same update in ops: amsgrad, or parameters that are views of a larger storage.
    scope(() => {
      m.copy_(m.mul(beta1).add(grad.mul(1 - beta1)));
      v.copy_(v.mul(beta2).add(grad.square().mul(1 - beta2)));
      let vHat = v;
      if (g.amsgrad) {
        s.maxExpAvgSq ??= keep(zerosLike(p));
        const mx = s.maxExpAvgSq as Tensor;
        mx.copy_(mx.maximum(v));
        vHat = mx;
      }
      const denom = vHat.sqrt().div(Math.sqrt(1 - beta2 ** step)).add(g.eps);
      p.copy_(p.mul(1 - g.lr * g.weightDecay).sub(m.div(denom).mul(g.lr / (1 - beta1 ** step))));
    });
  }
}
