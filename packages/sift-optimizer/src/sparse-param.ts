import { adamwSparseUpdate, type AdamWHyper, keep, noGrad, type Removable, type Tensor, topkAbs, zeros } from '@siftjs/tensor';

/**
 * One parameter P updated sparsely (the paper's Figure 5): k = ⌈x·numel⌉ flat indices, the values P[idx], a
 * k-sized gradient and k-sized AdamW moments. A hook on P's gradient gathers G[idx] into the sparse gradient and
 * returns null, so the dense gradient is dropped — freed — as soon as backward completes it.
 */
export class SparseParam {
  readonly k: number;
  /** int32 [k], chosen on the first gradient (null until then). */
  indices: Tensor | null = null;
  values: Tensor | null = null;
  /** The gradient of the values, accumulated over backward passes until zeroGrad. */
  grad: Tensor;
  private m: Tensor;
  private v: Tensor;
  private step = 0;
  private readonly hook: Removable;
  /** Bytes of the largest dense gradient seen by the hook (it lives only while the hook runs). */
  peakTransientBytes = 0;

  constructor(
    readonly name: string,
    readonly param: Tensor,
    density: number,
  ) {
    this.k = Math.max(1, Math.ceil(density * param.size));
    this.grad = keep(zeros([this.k]));
    this.m = keep(zeros([this.k]));
    this.v = keep(zeros([this.k]));
    param.requiresGrad = true;
    this.hook = param.registerHook((g) => {
      this.peakTransientBytes = Math.max(this.peakTransientBytes, g.size * 4);
      noGrad(() => {
        // The first gradient both selects the components and trains them (unlike the reference code, which
        // discards it).
        if (!this.indices) this.select(g);
        const picked = g.gatherFlat(this.indices as Tensor);
        const sum = this.grad.add(picked);
        this.grad.copy_(sum);
        picked.dispose();
        sum.dispose();
      });
      return null; // drop the dense gradient: nothing accumulates, its memory is freed now
    });
  }

  /** Top-k of |G| over the whole tensor; an all-zero gradient simply picks the first k indices. */
  private select(g: Tensor): void {
    const { values, indices } = topkAbs(g, this.k);
    values.dispose();
    this.indices = keep(indices);
    this.values = keep(this.param.gatherFlat(indices));
  }

  /** One AdamW step on the values, written into P at once (so the next forward sees it). */
  apply(h: Omit<AdamWHyper, 'step'>): void {
    if (!this.indices || !this.values) return;
    this.step++;
    adamwSparseUpdate(this.param, this.indices, this.values, this.grad, this.m, this.v, { ...h, step: this.step });
  }

  zeroGrad(): void {
    noGrad(() => this.grad.fill_(0));
  }

  dispose(): void {
    this.hook.remove();
    for (const t of [this.indices, this.values, this.grad, this.m, this.v]) t?.dispose();
  }

}
