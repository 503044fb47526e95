import { keep, scope, type Tensor } from '@siftjs/tensor';
import { Optimizer, type OptimizerState, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * SGD as torch.optim.SGD: d = g + λp; with momentum, b ← d on the first step and b ← μb + (1 − τ)d after;
 * d = d + μb (Nesterov) or d = b; then p ← p − lr·d.
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, opts: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...opts });
    for (const g of this.paramGroups) {
      if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new Error('SGD: Nesterov momentum requires momentum > 0 and dampening = 0');
    }
  }

  protected initState(): OptimizerState {
    return {};
  }

  protected update(p: Tensor, grad: Tensor, s: OptimizerState, g: ParamGroup<SGDOptions>): void {
    scope(() => {
      let d = g.weightDecay !== 0 ? grad.add(p.mul(g.weightDecay)) : grad;
      if (g.momentum !== 0) {
        const buf = s.momentumBuffer as Tensor | undefined;
        if (!buf) s.momentumBuffer = keep(d.clone());
        else buf.copy_(buf.mul(g.momentum).add(d.mul(1 - g.dampening)));
        const b = s.momentumBuffer as Tensor;
        d = g.nesterov ? d.add(b.mul(g.momentum)) : b;
      }
      p.copy_(p.sub(d.mul(g.lr)));
    });
  }
}
