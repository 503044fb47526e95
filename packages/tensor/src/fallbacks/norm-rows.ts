import { noGrad } from '../autograd/grad-mode.js';
import type { NormGradients } from '../backend/backend.js';
import { opmathDtype } from '../dtype.js';
import { scope } from '../memory/scope.js';
import { add, div, mul, sub } from '../ops/binary.js';
import { sum } from '../ops/reduce.js';
import { reciprocal, sqrt } from '../ops/unary.js';
import { reshape } from '../ops/views.js';
import type { Tensor } from '../tensor.js';
import { narrow, widen } from './precision.js';

/**
 * A norm's forward from primitives: the output (x's dtype) and the per-row statistics (`mean` only when centred), in
 * `opmathDtype(x.dtype)` — float32 for a half x, as the contract's NormStats.
 */
export interface NormForwardTensors {
  y: Tensor;
  /** [rows] */
  mean: Tensor | null;
  /** [rows]: 1 / √(var + eps), or 1 / √(mean(x²) + eps) for RMS norm. */
  rstd: Tensor;
}

/** A norm's gradients from primitives, dweight and dbias as [cols]; each null where it was not wanted. */
export interface NormBackwardTensors {
  dx: Tensor | null;
  dweight: Tensor | null;
  dbias: Tensor | null;
}

/**
 * The reference for layer norm (`centred`) and RMS norm over rows of `cols` of the contiguous `x`, from primitives:
 * y = (x − μ)·rstd·w + b with rstd = 1 / √(mean((x − μ)²) + eps) (biased variance, as torch); μ = 0 and no bias
 * for RMS norm. Used by fallbacks/layerNorm.ts and fallbacks/rmsNorm.ts. Computed in the widest float (precision.ts);
 * y is rounded once into x's dtype, the statistics once into `opmathDtype(x.dtype)`.
 */
export function normRows(x: Tensor, weight: Tensor | null, bias: Tensor | null, cols: number, eps: number, centred: boolean): NormForwardTensors {
  return noGrad(() =>
    scope(() => {
      const rows = cols === 0 ? 0 : x.size / cols;
      const xw = widen(reshape(x, [rows, cols]));
      const mu = centred ? div(sum(xw, 1, true), cols) : null;
      const d = mu ? sub(xw, mu) : xw;
      const rstd = reciprocal(sqrt(add(div(sum(mul(d, d), 1, true), cols), eps)));
      let y = mul(d, rstd);
      if (weight) y = mul(y, widen(reshape(weight, [cols])));
      if (bias) y = add(y, widen(reshape(bias, [cols])));
      const stats = opmathDtype(x.dtype);
      return {
        y: reshape(narrow(y, x.dtype), x.shape),
        mean: mu ? reshape(narrow(mu, stats), [rows]) : null,
        rstd: reshape(narrow(rstd, stats), [rows]),
      };
    }),
  );
}

/**
 * The backward of `normRows`, from primitives, computing only the gradients `wanted` names. With x̂ = (x − μ)·rstd
 * and g = dy·w: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) (RMS norm: without mean(g)); dw = Σ_rows dy·x̂; db = Σ_rows dy.
 * The statistics come in `opmathDtype(x.dtype)` (float32 beside a half x) and are widened with x; the gradients are
 * rounded once into x's dtype.
 */
export function normRowsBackward(
  dy: Tensor,
  x: Tensor,
  weight: Tensor | null,
  stats: { mean: Tensor | null; rstd: Tensor },
  cols: number,
  centred: boolean,
  wanted: NormGradients,
): NormBackwardTensors {
  return noGrad(() =>
    scope(() => {
      const rows = cols === 0 ? 0 : x.size / cols;
      const col = (t: Tensor) => widen(reshape(t, [rows, 1]));
      const xw = widen(reshape(x, [rows, cols]));
      const gy = widen(reshape(dy, [rows, cols]));
      const rstd = col(stats.rstd);
      const xhat = mul(centred && stats.mean ? sub(xw, col(stats.mean)) : xw, rstd);
      let dx: Tensor | null = null;
      if (wanted.input) {
        const g = weight ? mul(gy, widen(reshape(weight, [cols]))) : gy;
        const rowMean = (t: Tensor) => div(sum(t, 1, true), cols);
        const inner = sub(centred ? sub(g, rowMean(g)) : g, mul(xhat, rowMean(mul(g, xhat))));
        dx = reshape(narrow(mul(rstd, inner), x.dtype), x.shape);
      }
      const colSum = (t: Tensor) => narrow(sum(t, 0), x.dtype);
      return {
        dx,
        dweight: weight && wanted.weight ? colSum(mul(gy, xhat)) : null,
        dbias: centred && wanted.bias ? colSum(gy) : null,
      };
    }),
  );
}
