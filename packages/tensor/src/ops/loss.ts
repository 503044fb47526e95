import { ShapeError, fmtShape } from '../errors.js';
import { shapesEqual } from '../shape.js';
import { scope } from '../memory/scope.js';
import type { Tensor } from '../tensor.js';
import { arange } from './creation.js';
import { where } from './compare.js';
import { gatherFlat } from './indexing.js';
import { logSoftmax } from './softmax.js';
import { requireDType, requireFloat } from './util.js';

export interface CrossEntropyOptions {
  /** Targets equal to this contribute nothing and are not counted in the mean (default -100, as torch). */
  ignoreIndex?: number;
  /** ε: the target distribution is (1 − ε)·onehot + ε/C (torch's label_smoothing). */
  labelSmoothing?: number;
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy of `logits` [..., C] against int32 class `targets` [...], composed of logSoftmax and a flat
 * gather so its gradient comes from theirs: loss_i = −(1−ε)·logp[i, tᵢ] − (ε/C)·Σ_c logp[i, c].
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  requireFloat('crossEntropy', logits);
  requireDType('crossEntropy', targets, 'int32');
  const { ignoreIndex = -100, labelSmoothing: eps = 0, reduction = 'mean' } = opts;
  if (logits.rank < 1 || !shapesEqual(logits.shape.slice(0, -1), targets.shape)) {
    throw new ShapeError(
      `crossEntropy: logits ${fmtShape(logits.shape)} need shape [...targets, classes] for targets ${fmtShape(targets.shape)}`,
    );
  }
  if (eps < 0 || eps > 1) throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  const c = logits.shape[logits.rank - 1];
  const n = targets.size;
  return scope(() => {
    const logp = logSoftmax(logits.reshape([n, c]));
    const t = targets.reshape([n]);
    const valid = t.ne(ignoreIndex);
    const safe = where(valid, t, 0);
    const flatIdx = arange(n).mul(c).add(safe);
    let perRow = gatherFlat(logp, flatIdx).neg();
    if (eps > 0) perRow = perRow.mul(1 - eps).add(logp.mean(-1).neg().mul(eps));
    perRow = where(valid, perRow, 0);
    if (reduction === 'none') return perRow.reshape(targets.shape);
    const total = perRow.sum();
    if (reduction === 'sum') return total;
    return total.div(valid.cast(logits.dtype).sum());
  });
}
