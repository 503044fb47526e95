import { adamwIncrement, type AdamWHyper, type DType, keep, noGrad, type Removable, scatterFlatInto, scope, setSampledGrad, type Tensor, zeros } from '@siftjs/tensor';
import { Reselection } from './reselection.js';
import { createSelector, type Selection, type Selector } from './selection.js';

/**
 * One weight P trained sparsely — the paper's Figure 5. It holds k = ⌈x·numel⌉ flat indices, the pre-trained values
 * there (`base`), the increment δ (so P[idx] = base + δ), a k-sized gradient and k-sized AdamW moments. A hook on
 * P's gradient gathers G[idx] into the sparse gradient and returns null, so the dense gradient is freed as soon as
 * backward has produced it; `step()` runs AdamW on δ and writes base + δ into P, one kernel per tensor.
 */
export class SparseIncrement {
  readonly k: number;
  /** The dtype of the sparse state: float32, or float64 for float64 weights (never below float32). */
  readonly dtype: DType;
  /** int32 [k] in the order chosen (|score| descending); null until chosen. */
  indices: Tensor | null = null;
  base: Tensor | null = null;
  delta: Tensor | null = null;
  /** The gradient of δ, summed over the backward passes since the last zeroGrad. */
  grad: Tensor;
  m: Tensor;
  v: Tensor;
  /** Per-component step counts, once a re-selection has mixed old and new components. */
  steps: Tensor | null = null;
  /** AdamW steps taken (the bias-correction count while every component shares it). */
  step = 0;
  /** Whether a gradient arrived since the last zeroGrad: a tensor without one is not stepped, as in dense AdamW. */
  received = false;
  /**
   * How the gradient came in the last backward since G[idx] was asked for: only as G[idx] from the ops (sampled), or
   * densely through the hook (a use the ops cannot sample); null before any. memory.ts predicts the next one by it.
   */
  lastDelivery: 'sampled' | 'dense' | null = null;
  /** The most rows of a product that delivered G[idx] in the last backward (null: none yet): its workspace scales with them. */
  sampledRows: number | null = null;
  selector: Selector;
  readonly reselection = new Reselection();
  private readonly hook: Removable;
  /** Backward's gradients are this × the loss's (GradScaler): divided on arrival, so nothing kept is scaled. */
  lossScale = 1;
  /** Whether the components were chosen from a gradient since the last zeroGrad (discardBackward undoes that). */
  private chosenSinceZero = false;

  constructor(
    readonly name: string,
    readonly param: Tensor,
    density: number,
    private readonly selection: Selection,
  ) {
    this.k = Math.max(1, Math.ceil(density * param.size));
    this.dtype = param.dtype === 'float64' ? 'float64' : 'float32';
    this.grad = keep(zeros([this.k], { dtype: this.dtype }));
    this.m = keep(zeros([this.k], { dtype: this.dtype }));
    this.v = keep(zeros([this.k], { dtype: this.dtype }));
    this.selector = createSelector(selection);
    param.requiresGrad = true;
    const chosen = this.selector.initial(param, this.k);
    if (chosen) this.adopt(chosen);
    this.hook = param.registerHook((G) => noGrad(() => this.onGradient(G)));
  }

  /**
   * The hook on P's gradient: choose on the first gradient(s), gather G[idx], drop G. What is kept is the loss's own
   * gradient in the state's dtype: a half-precision G is widened to float32 and a loss scale divided out first, in a
   * copy freed with G.
   */
  private onGradient(arrived: Tensor): null {
    const widen = arrived.dtype !== this.dtype;
    if (!widen && this.lossScale === 1) return this.onUnscaledGradient(arrived);
    const scale = this.lossScale;
    const G = keep(
      scope(() => {
        const g = widen ? arrived.cast(this.dtype) : arrived;
        return scale === 1 ? g : g.mul(1 / scale);
      }),
    );
    try {
      return this.onUnscaledGradient(G);
    } finally {
      G.dispose();
    }
  }

  private onUnscaledGradient(G: Tensor): null {
    this.received = true;
    if (!this.indices) {
      // G is in the state's dtype (float32, or float64 for float64 weights): onGradient widened a half-precision one.
      const choice = this.selector.observe(G, this.k);
      if (choice) {
        this.adopt(keep(choice.indices));
        this.gather(choice.gradient);
        this.selector.done();
        this.chosenSinceZero = true;
      } // else still choosing: the selector keeps what it has seen, to train on once chosen
      return null;
    }
    this.lastDelivery = 'dense';
    this.reselection.observe(G, this.indices, this.dtype);
    this.gather(G);
    return null; // drop the dense gradient: nothing accumulates, its memory is freed now
  }

  /** grad += G[idx]. */
  private gather(G: Tensor): void {
    scope(() => this.grad.copy_(this.grad.add(G.gatherFlat(this.indices as Tensor).cast(this.dtype))));
  }

  /** Takes chosen indices: records the pre-trained values there and a zero increment. */
  private adopt(indices: Tensor): void {
    this.indices = indices;
    this.base = keep(scope(() => this.param.detach().reshape([this.param.size]).gatherFlat(indices).cast(this.dtype)));
    this.delta = keep(zeros([this.k], { dtype: this.dtype }));
    this.askForSampledGradient();
  }

  /**
   * Once chosen, and unless a re-selection needs the dense gradient, asks the ops that can for G[idx] alone
   * (sampled-grad.ts in @siftjs/tensor): a weight's matmul then computes k dot products instead of the dense
   * product, and delivers them here in place of the hook. Other uses of the weight still reach the hook.
   */
  askForSampledGradient(): void {
    const wanted = this.indices !== null && this.reselection.pending === 0;
    this.lastDelivery = null;
    setSampledGrad(this.param, wanted ? { indices: this.indices as Tensor, deliver: (values, info) => this.receiveSampled(values, info.rows) } : null);
  }

  private receiveSampled(values: Tensor, rows: number): void {
    if (!this.received) this.lastDelivery = 'sampled';
    this.sampledRows = Math.max(this.received ? this.sampledRows ?? 0 : 0, rows);
    this.received = true;
    const scale = this.lossScale;
    scope(() => this.grad.copy_(this.grad.add((scale === 1 ? values : values.mul(1 / scale)).cast(this.dtype))));
  }

  /** A re-selection of ⌊f·k⌉ components falls due: the next backward gives the hook the dense gradient to nominate from. */
  requestReselection(fraction: number): void {
    this.reselection.request(fraction, this.k, this.param.size);
    this.askForSampledGradient();
  }

  /** Whether `step()` will move this tensor: chosen, and a gradient arrived. */
  get ready(): boolean {
    return this.indices !== null && this.received;
  }

  /** A due re-selection swaps components now, before clipping and the step see the gradient. */
  prepareStep(): void {
    if (!this.ready) return;
    const next = this.reselection.swap(this.swapState());
    if (!next) return;
    for (const t of [this.indices, this.base, this.delta, this.grad, this.m, this.v, this.steps]) t?.dispose();
    Object.assign(this, next);
    this.askForSampledGradient();
  }

  /** One AdamW step of δ and the write-back P[idx] = base + δ, in one kernel. Nothing to do without a gradient. */
  stepIncrement(h: Omit<AdamWHyper, 'step'>): void {
    if (!this.ready) return;
    this.step++;
    const { param, indices, base, delta, grad, m, v, steps } = this.swapState();
    adamwIncrement({ param, indices, base, delta, grad, m, v, steps }, { ...h, step: this.step });
  }

  /** P[idx] ← base + δ (after restoring a saved state). */
  writeBack(): void {
    if (!this.indices || !this.base || !this.delta) return;
    const [indices, base, delta] = [this.indices, this.base, this.delta];
    noGrad(() => scope(() => scatterFlatInto(this.param, indices, base.add(delta).cast(this.param.dtype))));
  }

  zeroGrad(): void {
    noGrad(() => this.grad.fill_(0));
    this.received = false;
    this.chosenSinceZero = false;
  }

  /**
   * The step these gradients were for is skipped (a loss scaler found one not finite): besides the gradient, which
   * zeroGrad clears, forget what they taught — a choice of components made from them (chosen again from the next
   * gradient; a choice over several passes starts over), and re-selection nominees taken from them (nominated again).
   */
  discardBackward(): void {
    if (this.chosenSinceZero || (!this.indices && this.selector.passes > 0)) {
      if (this.chosenSinceZero) {
        for (const t of [this.indices, this.base, this.delta]) t?.dispose();
        this.indices = this.base = this.delta = null;
        this.lastDelivery = null;
        setSampledGrad(this.param, null);
      }
      this.selector.dispose();
      this.selector = createSelector(this.selection);
      this.chosenSinceZero = false;
    }
    this.reselection.forgetNominees();
    this.askForSampledGradient();
  }

  swapState() {
    const { param, steps, step } = this;
    return { param, indices: this.indices as Tensor, base: this.base as Tensor, delta: this.delta as Tensor, grad: this.grad, m: this.m, v: this.v, steps, step };
  }

  dispose(): void {
    this.hook.remove();
    setSampledGrad(this.param, null);
    for (const t of [this.indices, this.base, this.delta, this.grad, this.m, this.v, this.steps]) t?.dispose();
    this.selector.dispose();
    this.reselection.clear();
  }
}
