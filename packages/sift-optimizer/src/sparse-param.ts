import { type DType, keep, noGrad, type Removable, scatterFlatInto, scope, type Tensor, zeros } from '@siftjs/tensor';
import { type AdamWSettings, incrementAdamW } from './increment-adamw.js';
import { reselect } from './reselect.js';
import { type Selection, selectionPasses, selectWithoutGradient, topkSortedIndices } from './selection.js';

/** What a sparse parameter saves to resume bit-exactly (tensors are live; the caller copies or writes them). */
export interface SparseParamState {
  /** Optimizer steps taken (the bias-correction count when every component shares it). */
  step: number;
  /** Backward passes seen by a selection still in progress. */
  passes: number;
  tensors: Record<string, Tensor>;
}

/**
 * One weight P updated sparsely (the paper's Figure 5). It holds k = ⌈x·numel⌉ sorted flat indices, the base
 * values P₀[idx], the increment δ (so P[idx] = P₀[idx] + δ), a k-sized gradient and the k-sized AdamW moments.
 * A hook on P's gradient gathers G[idx] into the sparse gradient and returns null: the dense gradient is freed
 * as soon as backward has produced it, and never accumulates.
 */
export class SparseParam {
  readonly k: number;
  /** The dtype of the sparse state: float32, or float64 for float64 weights (never below float32). */
  readonly dtype: DType;
  /** int32 [k], ascending; null until selected. */
  indices: Tensor | null = null;
  base: Tensor | null = null;
  delta: Tensor | null = null;
  /** The gradient of δ, summed over backward passes until zeroGrad. */
  readonly grad: Tensor;
  private readonly m: Tensor;
  private readonly v: Tensor;
  /** Per-component step counts, only once re-selection has mixed old and new components. */
  private steps: Tensor | null = null;
  private step = 0;
  private passes = 0;
  /** Dense accumulators of a selection over several passes: the score and the gradient still to train on. */
  private score: Tensor | null = null;
  private pending: Tensor | null = null;
  private reselectFraction = 0;
  private dropped: { indices: Tensor; base: Tensor } | null = null;
  private readonly hook: Removable;
  /** Bytes of the largest dense gradient the hook has received (it lives only while the hook runs). */
  peakTransientBytes = 0;

  constructor(
    readonly name: string,
    readonly param: Tensor,
    density: number,
    readonly selection: Selection,
  ) {
    this.k = Math.max(1, Math.ceil(density * param.size));
    this.dtype = param.dtype === 'float64' ? 'float64' : 'float32';
    const z = () => keep(zeros([this.k], { dtype: this.dtype }));
    this.grad = z();
    this.m = z();
    this.v = z();
    param.requiresGrad = true;
    if (selection === 'weight-magnitude' || selection === 'random') this.adopt(noGrad(() => scope(() => selectWithoutGradient(selection, param.detach(), this.k))));
    this.hook = param.registerHook((g) => {
      this.peakTransientBytes = Math.max(this.peakTransientBytes, g.size * (g.dtype === 'float64' ? 8 : 4));
      noGrad(() => {
        const own = g.dtype === this.dtype ? g : g.cast(this.dtype);
        this.receive(own);
        if (own !== g) own.dispose();
      });
      return null; // drop the dense gradient: nothing accumulates, its memory is freed now
    });
  }

  get selected(): boolean {
    return this.indices !== null;
  }

  /** Takes ascending indices: records the base values there and a zero increment. */
  private adopt(indices: Tensor): void {
    this.indices = keep(indices);
    this.base = keep(noGrad(() => scope(() => this.param.detach().gatherFlat(indices).cast(this.dtype))));
    this.delta = keep(zeros([this.k], { dtype: this.dtype }));
  }

  /** One dense gradient from backward: select (first passes), re-select (when asked), then gather G[idx]. */
  private receive(g: Tensor): void {
    if (!this.indices) {
      this.passes++;
      if (selectionPasses(this.selection) === 1) {
        // The first gradient both selects the components and trains them (the reference code discards it).
        this.adopt(topkSortedIndices(g, this.k));
        this.passes = 0;
      } else {
        this.accumulateForSelection(g);
        if (this.passes < selectionPasses(this.selection)) return;
        // Every gradient seen while selecting trains too: the selection's pending sum is gathered, then freed.
        this.adopt(topkSortedIndices(this.score as Tensor, this.k));
        const pending = this.pending as Tensor;
        this.score?.dispose();
        this.score = null;
        this.pending = null;
        this.passes = 0;
        this.addGathered(pending);
        pending.dispose();
        return;
      }
    } else if (this.reselectFraction > 0) {
      this.reselectWith(g);
    }
    this.addGathered(g);
  }

  private accumulateForSelection(g: Tensor): void {
    const isFisher = typeof this.selection === 'object' && 'fisher' in this.selection;
    scope(() => {
      const s = isFisher ? g.square() : g;
      if (this.score) this.score.copy_(this.score.add(s));
      else this.score = keep(s.clone());
      if (this.pending) this.pending.copy_(this.pending.add(g));
      else this.pending = keep(g.clone());
    });
  }

  private addGathered(g: Tensor): void {
    scope(() => this.grad.copy_(this.grad.add(g.gatherFlat(this.indices as Tensor))));
  }

  private reselectWith(g: Tensor): void {
    const next = reselect(
      { param: this.param, indices: this.indices!, base: this.base!, delta: this.delta!, m: this.m, v: this.v, steps: this.steps, step: this.step },
      g,
      this.reselectFraction,
    );
    this.reselectFraction = 0;
    if (!next) return;
    for (const t of [this.indices, this.base, this.delta, this.steps]) t?.dispose();
    this.indices = next.indices;
    this.base = next.base;
    this.delta = next.delta;
    this.steps = next.steps;
    this.m.copy_(next.m);
    this.v.copy_(next.v);
    next.m.dispose();
    next.v.dispose();
    // The weight is not touched during backward (other gradients may still read it): the dropped components
    // return to their base values at the next write-back.
    this.dropped = next.dropped;
  }

  /** Swap `fraction` of the components at the next gradient (drop smallest |δ|, grow largest |G|). */
  requestReselect(fraction: number): void {
    if (this.indices) this.reselectFraction = fraction;
  }

  /** One AdamW step of δ, written into P at once so the next forward sees it. Unselected: nothing to step. */
  apply(h: AdamWSettings): void {
    if (!this.indices || !this.base || !this.delta) return;
    this.step++;
    if (this.steps) noGrad(() => scope(() => (this.steps as Tensor).copy_((this.steps as Tensor).add(1))));
    incrementAdamW(this.base, this.delta, this.grad, this.m, this.v, this.steps ?? this.step, h);
    this.writeBack();
  }

  /** P[idx] ← base + δ (and dropped components back to their base values). */
  writeBack(): void {
    if (this.dropped) {
      const { indices, base } = this.dropped;
      noGrad(() => scope(() => scatterFlatInto(this.param, indices, base.cast(this.param.dtype))));
      indices.dispose();
      base.dispose();
      this.dropped = null;
    }
    noGrad(() => scope(() => scatterFlatInto(this.param, this.indices as Tensor, this.base!.add(this.delta!).cast(this.param.dtype))));
  }

  zeroGrad(): void {
    noGrad(() => this.grad.fill_(0));
    this.pending?.dispose();
    this.pending = null;
  }

  /** The gradient the next step applies (none before selection), for clipping. */
  gradients(): Tensor[] {
    return this.indices ? [this.grad] : [];
  }

  stateDict(): SparseParamState {
    if (this.dropped && this.indices) this.writeBack();
    const tensors: Record<string, Tensor> = {};
    const put = (key: string, t: Tensor | null) => t && (tensors[key] = t);
    put('indices', this.indices);
    put('base', this.base);
    put('delta', this.delta);
    put('exp_avg', this.m);
    put('exp_avg_sq', this.v);
    put('steps', this.steps);
    put('selection_score', this.score);
    put('selection_pending', this.pending);
    return { step: this.step, passes: this.passes, tensors };
  }

  /** Restores a state saved from the same weight; P[idx] is rewritten as base + δ. */
  loadStateDict(s: SparseParamState): void {
    const t = s.tensors;
    const need = (key: string, size: number, dtype: DType) => {
      const x = t[key];
      if (!x) return null;
      if (x.size !== size || x.dtype !== dtype) {
        throw new Error(`SIFT loadStateDict: ${this.name}.${key} is ${x.dtype}[${x.size}], expected ${dtype}[${size}]`);
      }
      return keep(noGrad(() => x.clone()));
    };
    for (const x of [this.indices, this.base, this.delta, this.steps, this.score, this.pending]) x?.dispose();
    this.indices = need('indices', this.k, 'int32');
    this.base = need('base', this.k, this.dtype);
    this.delta = need('delta', this.k, this.dtype);
    this.steps = need('steps', this.k, this.dtype);
    this.score = need('selection_score', this.param.size, this.dtype);
    this.pending = need('selection_pending', this.param.size, this.dtype);
    for (const [key, into] of [['exp_avg', this.m], ['exp_avg_sq', this.v]] as const) {
      const x = need(key, this.k, this.dtype);
      noGrad(() => (x ? into.copy_(x) : into.fill_(0)));
      x?.dispose();
    }
    this.step = s.step;
    this.passes = s.passes;
    noGrad(() => this.grad.fill_(0));
    if (this.indices && this.base && this.delta) this.writeBack();
  }

  /** Bytes held now: sparse state, and the dense selection accumulators while a selection is in progress. */
  bytes(): { values: number; indices: number; optimizerState: number; gradients: number; selection: number } {
    const w = this.dtype === 'float64' ? 8 : 4;
    return {
      values: 2 * w * this.k, // base and δ
      indices: 4 * this.k,
      optimizerState: 2 * w * this.k + (this.steps ? w * this.k : 0),
      gradients: w * this.k,
      selection: (this.score ? w * this.param.size : 0) + (this.pending ? w * this.param.size : 0),
    };
  }

  dispose(): void {
    this.hook.remove();
    for (const t of [this.indices, this.base, this.delta, this.grad, this.m, this.v, this.steps, this.score, this.pending]) t?.dispose();
    this.dropped?.indices.dispose();
    this.dropped?.base.dispose();
  }
}
