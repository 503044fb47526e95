import { noGrad } from '../autograd/grad-mode.js';
import type { AdamWHyper } from '../backend/backend.js';
import { scope } from '../memory/scope.js';
import { add, div, mul, sub } from '../ops/binary.js';
import { adamwConstants } from '../ops/optim.js';
import { sqrt } from '../ops/unary.js';
import type { Tensor } from '../tensor.js';
import { narrow, widen } from './precision.js';

/**
 * The reference for Backend.adamw, from primitives, in place on whole contiguous tensors (PyTorch's AdamW, the
 * arithmetic of the fused kernels in the same order, in the widest float):
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p·decay − stepSize·m / (√v / bc2 + eps)
 */
export function adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, h: AdamWHyper): void {
  const c = adamwConstants(h);
  noGrad(() =>
    scope(() => {
      const g = widen(grad);
      const mi = add(mul(widen(m), c.beta1), mul(g, c.oneMinusBeta1));
      const vi = add(mul(widen(v), c.beta2), mul(mul(g, c.oneMinusBeta2), g));
      const p = sub(mul(widen(param), c.decay), div(mul(mi, c.stepSize), add(div(sqrt(vi), c.bc2), c.eps)));
      param.copy_(narrow(p, param.dtype));
      m.copy_(narrow(mi, m.dtype));
      v.copy_(narrow(vi, v.dtype));
    }),
  );
}
