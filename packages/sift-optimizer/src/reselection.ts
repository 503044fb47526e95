import { concat, full, type IncrementTensors, keep, noGrad, scatterFlatInto, scope, type Tensor, topkAbs, zeros } from '@siftjs/tensor';
import { topkIndices } from './selection.js';

/** The smallest normal float32: added to every |G| so that any unselected component outranks a selected one. */
const TINY = 1.1754944e-38;

/** The state a swap rewrites: a SparseIncrement's own tensors (as adamwIncrement takes them) and its step count. */
export type SwapState = Required<IncrementTensors> & { step: number };

/**
 * Periodic re-selection (beyond the paper, after RigL's drop-and-grow), in two halves. During backward — the only
 * time the dense gradient exists — the hook nominates the r unselected components with the largest |G| and sums
 * their gradient over the step's passes. At `step()` the r selected components with the smallest |δ| are dropped
 * (their weights return to the base values, so a delta stays exact) and the nominees take their places with zero
 * increments, zero moments and step counts of their own, so their bias correction is AdamW's first step.
 */
export class Reselection {
  /** r, once a re-selection is due (0: none). */
  private due = 0;
  /** int32 [r] and their gradient [r], from the backward passes since it fell due. */
  nominees: Tensor | null = null;
  nomineeGrad: Tensor | null = null;

  /** Asks for a swap of ⌊f·k⌉ components at the next step (none if that rounds to 0 or leaves nothing to grow). */
  request(fraction: number, k: number, size: number): void {
    this.due = Math.max(0, Math.min(Math.round(fraction * k), k - 1, size - k));
  }

  get pending(): number {
    return this.due;
  }

  /** In the hook: the first pass nominates from |G|; later passes add their G at the nominees. */
  observe(g: Tensor, indices: Tensor, dtype: Tensor['dtype']): void {
    if (this.due === 0) return;
    noGrad(() => {
      if (this.nominees && this.nomineeGrad) {
        const grad = this.nomineeGrad;
        scope(() => grad.copy_(grad.add(g.gatherFlat(this.nominees as Tensor).cast(dtype))));
        return;
      }
      this.nominees = keep(
        scope(() => {
          const score = g.abs().add(TINY).reshape([g.size]);
          scatterFlatInto(score, indices, zeros([indices.size], { dtype: score.dtype }));
          return topkAbs(score, this.due).indices;
        }),
      );
      this.nomineeGrad = keep(scope(() => g.gatherFlat(this.nominees as Tensor).cast(dtype)));
    });
  }

  /** At step(): drops the r smallest |δ| and adopts the nominees. Returns the new state, or null if none is due. */
  swap(s: SwapState): Omit<SwapState, 'param' | 'step'> | null {
    if (!this.due || !this.nominees || !this.nomineeGrad) return null;
    const r = this.due;
    const nominees = this.nominees;
    const nomineeGrad = this.nomineeGrad;
    const k = s.indices.size;
    const out = noGrad(() =>
      scope(() => {
        const keepPos = topkIndices(s.delta, k - r);
        const kept = (t: Tensor) => t.gatherFlat(keepPos);
        // Every old component returns to its base value; the kept ones are written again by this step's update.
        scatterFlatInto(s.param, s.indices, s.base.cast(s.param.dtype));
        const dtype = s.delta.dtype;
        const fresh = () => zeros([r], { dtype });
        const steps = s.steps ?? full([k], s.step, { dtype });
        return {
          indices: keep(concat([kept(s.indices), nominees])),
          base: keep(concat([kept(s.base), s.param.detach().reshape([s.param.size]).gatherFlat(nominees).cast(dtype)])),
          delta: keep(concat([kept(s.delta), fresh()])),
          grad: keep(concat([kept(s.grad), nomineeGrad])),
          m: keep(concat([kept(s.m), fresh()])),
          v: keep(concat([kept(s.v), fresh()])),
          steps: keep(concat([kept(steps), fresh()])),
        };
      }),
    );
    this.clear();
    return out;
  }

  /** Keeps a due re-selection but forgets its nominees: the next backward nominates again. */
  forgetNominees(): void {
    this.nominees?.dispose();
    this.nomineeGrad?.dispose();
    this.nominees = null;
    this.nomineeGrad = null;
  }

  /** Forgets a due re-selection and its nominees. */
  clear(): void {
    this.due = 0;
    this.nominees?.dispose();
    this.nomineeGrad?.dispose();
    this.nominees = null;
    this.nomineeGrad = null;
  }

  /** Restores a saved due re-selection (taking ownership of the tensors). */
  restore(due: number, nominees: Tensor | null, nomineeGrad: Tensor | null): void {
    this.clear();
    this.due = due;
    this.nominees = nominees;
    this.nomineeGrad = nomineeGrad;
  }
}
