import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../memory/scope.js';
import { add, div, sub } from '../ops/binary.js';
import { max, sum } from '../ops/reduce.js';
import { exp, log as ln } from '../ops/unary.js';
import { reshape } from '../ops/views.js';
import type { Tensor } from '../tensor.js';
import { narrow, widen } from './precision.js';

/**
 * The reference for Backend.softmax, from primitives: over rows of `cols` of the contiguous `x`,
 * y = exp(x − max) / Σ exp(x − max), or for log-softmax y = x − (max + ln Σ exp(x − max)).
 */
export function softmax(x: Tensor, cols: number, log: boolean): Tensor {
  return noGrad(() =>
    scope(() => {
      if (x.size === 0) return x.clone();
      const xw = widen(reshape(x, [x.size / cols, cols]));
      const m = max(xw, 1, true);
      const shifted = sub(xw, m);
      const e = exp(shifted);
      const s = sum(e, 1, true);
      const y = log ? sub(xw, add(m, ln(s))) : div(e, s);
      return reshape(narrow(y, x.dtype), x.shape);
    }),
  );
}
