import type { Module } from '@siftjs/nn';
import { keep, noGrad, scope, stack, type Tensor, topkAbs, widestFloat } from '@siftjs/tensor';
import { topkIndices } from './selection.js';

/** One step of the paper's Figure 4, averaged over the tracked matrices. */
export interface StabilityPoint {
  step: number;
  /** Share of this step's squared gradient norm held by the components the FIRST gradient ranked top-x. */
  firstBatchShare: number;
  /** Share held by this step's own top-x components (the most any fixed set of that size could hold). */
  ownShare: number;
  /** The same two as L2 norm ratios ‖G[idx]‖ / ‖G‖ (the authors' measure). */
  firstBatchNormRatio: number;
  ownNormRatio: number;
}

/**
 * The paper's Figure 4: whether the components chosen from the first batch keep holding the gradient as training
 * moves on. `observe()` reads the dense `.grad` of every tracked parameter (call it after backward, before the
 * optimizer step, in a run that keeps dense gradients — full fine-tuning or head-only plus the tracked matrices);
 * the first call fixes each tensor's top ⌈x·numel⌉ indices. Shares are summed in the backend's widest float.
 */
export class SelectionStability {
  readonly points: StabilityPoint[] = [];
  private readonly tracked: { name: string; param: Tensor; first: Tensor | null }[];

  constructor(
    model: Module,
    private readonly fraction: number,
    include: (name: string, p: Tensor) => boolean = (_, p) => p.rank >= 2,
  ) {
    if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`SelectionStability: fraction must be in (0, 1], got ${fraction}`);
    this.tracked = [...model.namedParameters()].filter(([n, p]) => include(n, p)).map(([name, param]) => ({ name, param, first: null }));
    if (this.tracked.length === 0) throw new RangeError('SelectionStability: no parameter to track');
  }

  /** Records one step from the current gradients (tensors without one are left out of that step's mean). */
  async observe(): Promise<StabilityPoint> {
    const sums = noGrad(() =>
      scope(() => {
        const rows: Tensor[] = [];
        for (const t of this.tracked) {
          if (!t.param.grad) continue;
          const g = t.param.grad.reshape([t.param.size]).cast(widestFloat(t.param.backend));
          const k = Math.ceil(this.fraction * t.param.size);
          t.first ??= keep(topkIndices(g, k));
          rows.push(stack([g.square().sum(), g.gatherFlat(t.first).square().sum(), topkAbs(g, k).values.square().sum()]));
        }
        return rows.length ? keep(stack(rows)) : null;
      }),
    );
    if (!sums) throw new Error('SelectionStability: no tracked parameter has a gradient (call observe() after backward)');
    const v = await sums.toArray();
    sums.dispose();
    const n = v.length / 3;
    const mean = (f: (total: number, first: number, own: number) => number) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += v[3 * i] > 0 ? f(v[3 * i], v[3 * i + 1], v[3 * i + 2]) : 0;
      return s / n;
    };
    const point: StabilityPoint = {
      step: this.points.length,
      firstBatchShare: mean((t, f) => f / t),
      ownShare: mean((t, _, o) => o / t),
      firstBatchNormRatio: mean((t, f) => Math.sqrt(f / t)),
      ownNormRatio: mean((t, _, o) => Math.sqrt(o / t)),
    };
    this.points.push(point);
    return point;
  }

  dispose(): void {
    for (const t of this.tracked) t.first?.dispose();
  }
}
