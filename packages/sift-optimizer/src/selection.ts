import { keep, noGrad, rand, scope, type Tensor, topkAbs } from '@siftjs/tensor';

/**
 * How the k components of each targeted tensor are chosen.
 * - `'first-batch'` (the paper): top-k |G| of the first gradient, which also trains.
 * - `{ accumulate: n }`: top-k |ΣG| over the first n backward passes (the gradient of a larger batch).
 * - `{ fisher: n }`: top-k Σg² over the first n backward passes (the empirical Fisher diagonal).
 * - `'weight-magnitude'`: top-k |W| of the pretrained weight, chosen before training.
 * - `'random'`: k distinct components uniformly at random from the seeded generator (the paper's ablation).
 */
export type Selection = 'first-batch' | { accumulate: number } | { fisher: number } | 'weight-magnitude' | 'random';

/** How many backward passes a gradient-based selection reads (0: chosen before training). */
export function selectionPasses(s: Selection): number {
  if (s === 'first-batch') return 1;
  if (s === 'weight-magnitude' || s === 'random') return 0;
  const n = 'accumulate' in s ? s.accumulate : s.fisher;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`SIFT: selection needs a whole number of passes ≥ 1, got ${n}`);
  return n;
}

export function describeSelection(s: Selection): string {
  return typeof s === 'string' ? s : 'accumulate' in s ? `accumulate:${s.accumulate}` : `fisher:${s.fisher}`;
}

/** Parses `describeSelection`'s output (saved in states and delta metadata). */
export function parseSelection(text: string): Selection {
  if (text === 'first-batch' || text === 'weight-magnitude' || text === 'random') return text;
  const m = /^(accumulate|fisher):(\d+)$/.exec(text);
  if (!m) throw new Error(`SIFT: unknown selection '${text}'`);
  return m[1] === 'accumulate' ? { accumulate: Number(m[2]) } : { fisher: Number(m[2]) };
}

/**
 * The k flat indices of largest |score|, by |score| descending, ties to the lowest index (`topkAbs`'s contract).
 * Indices stay in this order while training; files store them ascending (delta.ts sorts them on the host).
 */
export function topkIndices(score: Tensor, k: number): Tensor {
  return noGrad(() => {
    const { values, indices } = topkAbs(score, k);
    values.dispose();
    return indices;
  });
}

/** The choice, once made: the indices, and the gradient that trains the first step (G, or ΣG over the passes). */
export interface Choice {
  indices: Tensor;
  gradient: Tensor;
}

/**
 * A selection strategy: it reads the dense gradients of the backward passes before the choice, owning whatever
 * buffers that takes, and makes the choice. Its buffers survive `zeroGrad` — a gradient seen while choosing has
 * not been applied yet — and are freed once the choice is made (`done`).
 */
export interface Selector {
  /** Chosen before any gradient (weight magnitude, random): the indices, else null. */
  initial(weight: Tensor, k: number): Tensor | null;
  /** One backward pass's dense gradient (in the state's dtype); the choice once the last pass is seen. */
  observe(g: Tensor, k: number): Choice | null;
  /** Frees what the choice kept (call once the choice's gradient has been gathered). */
  done(): void;
  /** Backward passes the choice reads (0: made before training), and how many dense buffers it keeps meanwhile. */
  readonly total: number;
  readonly denseBuffers: number;
  /** Passes seen of a choice in progress, and the buffers it holds (for saving and restoring a run). */
  passes: number;
  buffers(): Record<string, Tensor>;
  /** Restores a saved choice in progress, taking ownership of the buffers. */
  restore(passes: number, buffers: Record<string, Tensor | undefined>): void;
  /** Dense elements it holds now. */
  heldElements(): number;
  dispose(): void;
}

/** Top-k |G| of the first gradient: the paper's choice. That gradient also trains. */
class FirstBatch implements Selector {
  readonly total = 1;
  readonly denseBuffers = 0;
  passes = 0;
  initial(): null {
    return null;
  }
  observe(g: Tensor, k: number): Choice {
    return { indices: topkIndices(g, k), gradient: g };
  }
  done(): void {}
  buffers(): Record<string, Tensor> {
    return {};
  }
  restore(): void {}
  heldElements(): number {
    return 0;
  }
  dispose(): void {}
}

/**
 * Scores summed over n passes: ΣG (accumulate) or Σg² (Fisher). The gradient sum ΣG is kept to train the first
 * step — for accumulate it is the score itself, so one buffer; Fisher keeps two.
 */
class MultiPass implements Selector {
  passes = 0;
  readonly denseBuffers: number;
  private sum: Tensor | null = null;
  private squares: Tensor | null = null;

  constructor(
    readonly total: number,
    private readonly fisher: boolean,
  ) {
    this.denseBuffers = fisher ? 2 : 1;
  }

  initial(): null {
    return null;
  }

  observe(g: Tensor, k: number): Choice | null {
    noGrad(() => {
      this.sum = addInto(this.sum, g);
      if (this.fisher) this.squares = scope(() => addInto(this.squares, g.square()));
    });
    if (++this.passes < this.total) return null;
    const score = this.fisher ? (this.squares as Tensor) : (this.sum as Tensor);
    return { indices: topkIndices(score, k), gradient: this.sum as Tensor };
  }

  done(): void {
    this.dispose();
    this.passes = 0;
  }

  buffers(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    if (this.sum) out.selection_sum = this.sum;
    if (this.squares) out.selection_squares = this.squares;
    return out;
  }

  restore(passes: number, b: Record<string, Tensor | undefined>): void {
    this.dispose();
    this.passes = passes;
    this.sum = b.selection_sum ? keep(b.selection_sum) : null;
    this.squares = b.selection_squares ? keep(b.selection_squares) : null;
    if (passes > 0 && (!this.sum || (this.fisher && !this.squares))) throw new Error(`SIFT: a selection after ${passes} passes needs its saved sums`);
  }

  heldElements(): number {
    return (this.sum?.size ?? 0) + (this.squares?.size ?? 0);
  }

  dispose(): void {
    this.sum?.dispose();
    this.squares?.dispose();
    this.sum = null;
    this.squares = null;
  }
}

/** `acc + x`, into `acc` (a clone of x the first time). */
function addInto(acc: Tensor | null, x: Tensor): Tensor {
  if (!acc) return keep(x.clone());
  scope(() => acc.copy_(acc.add(x)));
  return acc;
}

/** Chosen from the weight before training: its largest magnitudes, or uniformly at random (seeded). */
class WithoutGradient implements Selector {
  readonly total = 0;
  readonly denseBuffers = 0;
  passes = 0;
  constructor(private readonly how: 'weight-magnitude' | 'random') {}

  initial(weight: Tensor, k: number): Tensor {
    return noGrad(() =>
      scope(() => {
        if (this.how === 'weight-magnitude') return topkIndices(weight.detach(), k);
        // Uniform scores in [1, 2): every subset of size k is equally likely to hold the k largest.
        return topkIndices(rand([weight.size], { low: 1, high: 2 }), k);
      }),
    );
  }
  observe(): null {
    throw new Error('SIFT: a selection made before training reads no gradient');
  }
  done(): void {}
  buffers(): Record<string, Tensor> {
    return {};
  }
  restore(): void {}
  heldElements(): number {
    return 0;
  }
  dispose(): void {}
}

export function createSelector(s: Selection): Selector {
  if (s === 'first-batch') return new FirstBatch();
  if (s === 'weight-magnitude' || s === 'random') return new WithoutGradient(s);
  const n = selectionPasses(s);
  return new MultiPass(n, 'fisher' in s);
}
