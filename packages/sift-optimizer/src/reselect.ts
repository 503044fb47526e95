import { full, keep, noGrad, ones, scatterFlatInto, scope, type Tensor, topkAbs, zeros } from '@siftjs/tensor';
import { topkSortedIndices } from './selection.js';

/** A sparse parameter's state as re-selection reads it. */
export interface SparseState {
  param: Tensor;
  indices: Tensor;
  base: Tensor;
  delta: Tensor;
  m: Tensor;
  v: Tensor;
  /** Per-component step counts, or null when all share `step`. */
  steps: Tensor | null;
  step: number;
}

/** The state after re-selection, plus the dropped components whose weights must return to their base values. */
export interface Reselected {
  indices: Tensor;
  base: Tensor;
  delta: Tensor;
  m: Tensor;
  v: Tensor;
  steps: Tensor;
  dropped: { indices: Tensor; base: Tensor };
}

/** Float32 holds every integer up to 2²⁴ exactly: the slot map below needs positions < k to survive. */
const EXACT_FLOAT32_INTEGERS = 2 ** 24;

/**
 * Periodic re-selection (beyond the paper, after RigL's drop-and-grow): of the k components, the r = ⌊f·k⌉ with
 * the smallest |δ| are dropped (their increments discarded: the weight returns to its base value) and the r
 * unselected components with the largest |G| of this gradient are grown. Kept components carry their δ, moments
 * and step counts; grown ones start from zero with their own step count, so their bias correction is AdamW's
 * first step rather than the tensor's. All on the device; no index is read back.
 */
export function reselect(s: SparseState, g: Tensor, fraction: number): Reselected | null {
  const k = s.indices.size;
  const r = Math.min(Math.round(fraction * k), k - 1, s.param.size - k);
  if (r <= 0) return null;
  if (k > EXACT_FLOAT32_INTEGERS) throw new RangeError(`SIFT re-selection: k = ${k} exceeds 2^24 components per tensor`);
  return noGrad(() =>
    scope(() => {
      // Keep the k − r largest |δ| (positions within the k, ascending); the other r positions are dropped.
      const keepPos = topkSortedIndices(s.delta, k - r);
      const keepMask = ones([k]);
      scatterFlatInto(keepMask, keepPos, zeros([k - r]));
      const dropPos = topkSortedIndices(keepMask, r);
      const keptIdx = s.indices.gatherFlat(keepPos);

      // Grow the r largest |G| among unselected components. The tiny offset makes every unselected score
      // positive, so the zeros written at selected positions can never win a tie.
      const growScore = g.abs().add(1.1754944e-38);
      scatterFlatInto(growScore, s.indices, zeros([k], { dtype: growScore.dtype }));
      const grown = topkAbs(growScore, r).indices;

      const members = zeros([s.param.size]);
      scatterFlatInto(members, keptIdx, ones([k - r]));
      scatterFlatInto(members, grown, ones([r]));
      const indices = topkSortedIndices(members, k);

      // For each new index: 1 + its old position if kept, 0 if grown.
      const slotMap = zeros([s.param.size]);
      scatterFlatInto(slotMap, keptIdx, keepPos.cast('float32').add(1));
      const slot = slotMap.gatherFlat(indices);
      const kept = slot.gt(0);
      const oldPos = slot.sub(1).clamp(0, null).cast('int32');
      const carry = (t: Tensor) => t.gatherFlat(oldPos).where(kept, 0);
      const steps = (s.steps ?? full([k], s.step, { dtype: s.delta.dtype })).gatherFlat(oldPos).where(kept, 0);
      // Grown components were never changed, so the weight there is its base value.
      const base = s.base.gatherFlat(oldPos).where(kept, s.param.detach().gatherFlat(indices).cast(s.base.dtype));

      const out: Reselected = {
        indices: keep(indices),
        base: keep(base),
        delta: keep(carry(s.delta)),
        m: keep(carry(s.m)),
        v: keep(carry(s.v)),
        steps: keep(steps),
        dropped: { indices: keep(s.indices.gatherFlat(dropPos)), base: keep(s.base.gatherFlat(dropPos)) },
      };
      return out;
    }),
  );
}
