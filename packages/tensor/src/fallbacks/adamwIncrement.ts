import { noGrad } from '../autograd/grad-mode.js';
import type { AdamWConstants } from '../backend/backend.js';
import { scope } from '../memory/scope.js';
import { add, div, mul, pow, sub } from '../ops/binary.js';
import type { IncrementTensors } from '../ops/optim.js';
import { neg, sqrt } from '../ops/unary.js';
import { scalarOn } from '../ops/util.js';
import type { Tensor } from '../tensor.js';
import { narrow, widen } from './precision.js';

/**
 * The reference for Backend.adamwIncrement (SIFT's step), from primitives, in place: AdamW on the increment δ of the
 * k chosen components, then param[indices] ← base + δ by a scatter, in the fused kernels' order of arithmetic, in the
 * widest float. With `steps`, each count is incremented and its own bias corrections computed on the device:
 * stepSize = lr / (1 − β₁ᵗ), bc2 = √(1 − β₂ᵗ). The parameter is written first, so an index outside it is reported
 * (by scatterFlat) before any state has moved.
 */
export function adamwIncrement(t: IncrementTensors, c: AdamWConstants): void {
  const { param, indices, base, delta, grad, m, v } = t;
  const steps = t.steps ?? null;
  noGrad(() =>
    scope(() => {
      const b = param.backend;
      const g = widen(grad);
      const mi = add(mul(widen(m), c.beta1), mul(g, c.oneMinusBeta1));
      const vi = add(mul(widen(v), c.beta2), mul(mul(g, c.oneMinusBeta2), g));
      let stepSize: Tensor | number = c.stepSize;
      let bc2: Tensor | number = c.bc2;
      let count: Tensor | null = null;
      if (steps) {
        count = add(widen(steps), 1);
        const scalar = (x: number) => scalarOn(b, x, count!.dtype);
        const oneMinus = (x: Tensor) => add(neg(x), 1);
        stepSize = div(scalar(c.lr), oneMinus(pow(scalar(c.beta1), count)));
        bc2 = sqrt(oneMinus(pow(scalar(c.beta2), count)));
      }
      const step = div(typeof stepSize === 'number' ? mul(mi, stepSize) : mul(stepSize, mi), add(div(sqrt(vi), bc2), c.eps));
      const d = narrow(sub(mul(widen(delta), c.decay), step), delta.dtype);
      const written = narrow(add(widen(base), widen(d)), param.dtype);
      b.scatterFlat(param.raw().storage, param.dtype, indices.raw(), written.raw(), 'set');
      delta.copy_(d);
      m.copy_(narrow(mi, m.dtype));
      v.copy_(narrow(vi, v.dtype));
      if (steps && count) steps.copy_(narrow(count, steps.dtype));
    }),
  );
}
