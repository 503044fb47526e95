import { AdamW, type Module, type OptimizerStateDict, type AdamWOptions } from '@siftjs/nn';
import { bytesPerElement, noGrad, scope, stack, type Tensor } from '@siftjs/tensor';
import { type MemoryReport, memoryReport } from './memory.js';
import { matchesAny } from './targets.js';
import type { FineTuner } from './fine-tuner.js';
import { type Selection, describeSelection } from './selection.js';
import { SparseParam, type SparseParamState } from './sparse-param.js';

export interface SIFTOptions {
  /** Fraction x of each targeted tensor's components that train (the paper: 0.008 on GLUE, 0.05 on LLaMA). */
  density: number;
  /** Parameters updated sparsely: names, or dotted components of names ('query', 'attention.output.dense'). */
  targets: string[];
  /** Parameters trained densely (a classifier head). Everything else is frozen. */
  dense?: string[];
  /** How components are chosen (default 'first-batch', the paper's). */
  selection?: Selection;
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Clip the global L2 norm of the gradients being applied (sparse and dense) to this. */
  maxGradNorm?: number;
  /** Beyond the paper: every `every` steps, swap `fraction` of each tensor's components (see reselect.ts). */
  reselect?: { every: number; fraction: number };
}

/** What `stateDict()` returns: enough, with the base model, to resume bit-exactly. */
export interface SIFTStateDict {
  step: number;
  lr: number;
  sparse: Record<string, SparseParamState>;
  /** The densely trained parameters' current values, by name. */
  dense: Record<string, Tensor>;
  denseOptimizer: OptimizerStateDict<AdamWOptions> | null;
}

/**
 * SIFT (Song et al., ICML 2024): sparse increments on the targeted weights, selected from the gradient, fed by
 * hooks that drop the dense gradient, stepped by AdamW on k-sized state and written into the weights at once;
 * a dense AdamW for the `dense` parameters. Usage: `loss.backward(); sift.step(); sift.zeroGrad()`.
 *
 * `paramGroups[0].lr` is the learning rate of both, so `LRScheduler` from @siftjs/nn drives SIFT unchanged.
 */
export class SIFT implements FineTuner {
  readonly sparse: SparseParam[] = [];
  readonly denseParams: { name: string; param: Tensor }[] = [];
  readonly paramGroups: { lr: number }[];
  readonly options: Readonly<SIFTOptions> & { selection: Selection };
  private readonly denseOpt: AdamW | null;
  private stepCount = 0;

  constructor(model: Module, opts: SIFTOptions) {
    if (!(opts.density > 0 && opts.density <= 1)) throw new RangeError(`SIFT: density must be in (0, 1], got ${opts.density}`);
    if (opts.reselect && !(Number.isInteger(opts.reselect.every) && opts.reselect.every > 0 && opts.reselect.fraction > 0 && opts.reselect.fraction < 1)) {
      throw new RangeError(`SIFT: reselect needs a whole 'every' ≥ 1 and 0 < fraction < 1, got ${JSON.stringify(opts.reselect)}`);
    }
    this.options = { lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, selection: 'first-batch', ...opts };
    for (const [name, p] of model.namedParameters()) {
      if (matchesAny(name, opts.targets) && p.rank >= 2) this.sparse.push(new SparseParam(name, p, opts.density, this.options.selection));
      else if (opts.dense && matchesAny(name, opts.dense)) {
        p.requiresGrad = true;
        this.denseParams.push({ name, param: p });
      } else p.requiresGrad = false;
    }
    if (this.sparse.length === 0) throw new Error(`SIFT: no 2-D parameter matches the targets ${opts.targets.join(', ')}`);
    this.paramGroups = [{ lr: this.options.lr as number }];
    const { betas, eps, weightDecay } = this.options;
    this.denseOpt = this.denseParams.length ? new AdamW(this.denseParams.map((d) => d.param), { lr: this.lr, betas, eps, weightDecay }) : null;
  }

  /** 'random' when the components are chosen at random (the random-index baseline), else 'sift'. */
  get method(): string {
    return this.options.selection === 'random' ? 'random' : 'sift';
  }

  get lr(): number {
    return this.paramGroups[0].lr;
  }

  set lr(value: number) {
    this.paramGroups[0].lr = value;
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.stepCount;
  }

  /** Trainable components: k per sparse tensor plus every dense parameter element. */
  trainableCount(): number {
    return this.sparse.reduce((n, s) => n + s.k, 0) + this.denseParams.reduce((n, d) => n + d.param.size, 0);
  }

  step(): void {
    const { betas, eps, weightDecay, maxGradNorm } = this.options;
    if (maxGradNorm !== undefined) this.clip(maxGradNorm);
    const h = { lr: this.lr, beta1: betas![0], beta2: betas![1], eps: eps!, weightDecay: weightDecay! };
    for (const s of this.sparse) s.apply(h);
    if (this.denseOpt) {
      this.denseOpt.paramGroups[0].lr = this.lr;
      this.denseOpt.step();
    }
    this.stepCount++;
    this.scheduleReselection();
  }

  /** Scales exactly the gradients being applied — sparse and dense — to a global norm ≤ max, without reading back. */
  private clip(maxNorm: number): void {
    noGrad(() =>
      scope(() => {
        const grads = [...this.sparse.flatMap((s) => s.gradients()), ...this.denseParams.map((d) => d.param.grad).filter((g): g is Tensor => g !== null)];
        if (grads.length === 0) return;
        const norm = stack(grads.map((g) => g.cast('float32').square().sum())).sum().sqrt();
        const coef = norm.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1);
        for (const g of grads) g.copy_(g.mul(coef.cast(g.dtype)));
      }),
    );
  }

  zeroGrad(): void {
    for (const s of this.sparse) s.zeroGrad();
    this.denseOpt?.zeroGrad();
  }

  /** The live state (tensors are not copies): with the base model, enough to resume bit-exactly. */
  stateDict(): SIFTStateDict {
    return {
      step: this.stepCount,
      lr: this.lr,
      sparse: Object.fromEntries(this.sparse.map((s) => [s.name, s.stateDict()])),
      dense: Object.fromEntries(this.denseParams.map((d) => [d.name, d.param])),
      denseOptimizer: this.denseOpt?.stateDict() ?? null,
    };
  }

  /**
   * Restores a state saved by `stateDict()` from a SIFT over the same model and targets: the sparse state and the
   * weights it implies, the dense parameters and their optimizer, the step count and learning rate.
   */
  loadStateDict(sd: SIFTStateDict): void {
    const names = new Set(this.sparse.map((s) => s.name));
    const missing = [...names].filter((n) => !(n in sd.sparse));
    const unexpected = Object.keys(sd.sparse).filter((n) => !names.has(n));
    if (missing.length || unexpected.length) {
      throw new Error(`SIFT loadStateDict: sparse tensors differ (missing: ${missing.join(', ') || 'none'}; unexpected: ${unexpected.join(', ') || 'none'})`);
    }
    for (const s of this.sparse) s.loadStateDict(sd.sparse[s.name]);
    for (const d of this.denseParams) {
      const saved = sd.dense[d.name];
      if (!saved) throw new Error(`SIFT loadStateDict: dense parameter ${d.name} is missing`);
      if (saved.size !== d.param.size) throw new Error(`SIFT loadStateDict: dense parameter ${d.name} has ${saved.size} elements saved, ${d.param.size} here`);
      noGrad(() => d.param.copy_(saved.reshape(d.param.shape).cast(d.param.dtype)));
    }
    if (this.denseOpt && sd.denseOptimizer) this.denseOpt.loadStateDict(sd.denseOptimizer);
    this.stepCount = sd.step;
    this.lr = sd.lr;
    this.scheduleReselection();
  }

  /** A re-selection is due at the backward after every `every`-th step (a function of the step count alone). */
  private scheduleReselection(): void {
    const r = this.options.reselect;
    if (r && this.stepCount > 0 && this.stepCount % r.every === 0) for (const s of this.sparse) s.requestReselect(r.fraction);
  }

  /** Bytes SIFT keeps (sparse state and the dense parameters' gradients and moments), and the largest dense
   * gradient that lived during backward (only inside its hook). */
  memoryReport(): MemoryReport {
    const sum = { values: 0, indices: 0, optimizerState: 0, gradients: 0, selection: 0 };
    for (const s of this.sparse) for (const [k, v] of Object.entries(s.bytes())) sum[k as keyof typeof sum] += v;
    const denseBytes = this.denseParams.reduce((n, d) => n + d.param.size * bytesPerElement(d.param.dtype), 0);
    return memoryReport({
      values: sum.values,
      indices: sum.indices,
      gradients: sum.gradients + denseBytes,
      optimizerState: sum.optimizerState + 2 * denseBytes,
      selectionBuffers: sum.selection,
      peakTransientGradient: Math.max(0, ...this.sparse.map((s) => s.peakTransientBytes)),
    });
  }

  /** A short description saved with deltas and states. */
  describe(): Record<string, string> {
    return {
      density: String(this.options.density),
      targets: JSON.stringify(this.options.targets),
      dense: JSON.stringify(this.options.dense ?? []),
      selection: describeSelection(this.options.selection),
    };
  }

  dispose(): void {
    for (const s of this.sparse) s.dispose();
  }
}
