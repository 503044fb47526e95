import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../memory/scope.js';
import { mul, sub } from '../ops/binary.js';
import { sum } from '../ops/reduce.js';
import { exp } from '../ops/unary.js';
import { reshape } from '../ops/views.js';
import type { Tensor } from '../tensor.js';
import { narrow, widen } from './precision.js';

/**
 * The reference for Backend.softmaxBackward, from primitives, over rows of `cols` of the output y and its
 * gradient dy (both contiguous): softmax dx = y ⊙ (dy − Σ dy⊙y); log-softmax dx = dy − exp(y) Σ dy.
 */
export function softmaxBackward(y: Tensor, dy: Tensor, cols: number, log: boolean): Tensor {
  return noGrad(() =>
    scope(() => {
      if (y.size === 0) return dy.clone();
      const rows = [y.size / cols, cols];
      const yw = widen(reshape(y, rows));
      const gw = widen(reshape(dy, rows));
      const dx = log ? sub(gw, mul(exp(yw), sum(gw, 1, true))) : mul(yw, sub(gw, sum(mul(gw, yw), 1, true)));
      return reshape(narrow(dx, dy.dtype), dy.shape);
    }),
  );
}
