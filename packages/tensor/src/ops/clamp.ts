import { record } from '../autograd/record.js';
import type { Tensor } from '../tensor.js';
import { maximum, minimum } from './binary.js';
import { noGrad } from '../autograd/grad-mode.js';
import { alias } from './views.js';

/** Limits x to [min, max] (either bound may be omitted); the gradient passes where min ≤ x ≤ max, as PyTorch. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const hasMin = min !== undefined && min !== null;
  const hasMax = max !== undefined && max !== null;
  const y = noGrad(() => {
    const lo = hasMin ? maximum(x, min) : alias(x);
    if (!hasMax) return lo;
    const hi = minimum(lo, max);
    lo.dispose();
    return hi;
  });
  return record(
    'clamp',
    y,
    [x],
    (g, [x]) => {
      const lo = hasMin ? x.ge(min) : null;
      const hi = hasMax ? x.le(max) : null;
      const pass = lo && hi ? lo.logicalAnd(hi) : (lo ?? hi);
      return [pass ? g.mul(pass.cast(g.dtype)) : g];
    },
    [x],
  );
}
