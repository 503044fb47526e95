import { AdamW, type AdamWOptions, type Module, type OptimizerStateDict } from '@siftjs/nn';
import { bytesPerElement, keep, noGrad, scope, stack, type Tensor, widestFloat } from '@siftjs/tensor';
import { SIFTError } from './errors.js';
import type { FineTuner, StepTensors } from './fine-tuner.js';
import { type IncrementState, incrementState, loadIncrementState } from './increment-state.js';
import { addBytes, type MemoryReport, memoryReport, nextStepBytes, residentBytes, sequencePeak, stepBytes } from './memory.js';
import { buildGroups, type GroupOptions, type ParamGroup } from './param-groups.js';
import { describeSelection, type Selection } from './selection.js';
import { SparseIncrement } from './sparse-increment.js';
import { matchesAny } from './targets.js';
import { GradientUnscaling } from './loss-scale.js';

export interface SIFTOptions {
  /** Fraction x of each targeted tensor's components that train: k = ⌈x·numel⌉ (the paper: 0.008 on GLUE, 0.05 on LLaMA). */
  density: number;
  /** Parameters updated sparsely — every parameter one of these names, or runs of whole dotted components of its
   *  name ('query', 'attention.output.dense'), matches: weights, biases and norm weights alike. */
  targets: string[];
  /** Parameters trained densely (a classifier head). Everything else is frozen. */
  dense?: string[];
  /** How components are chosen (default 'first-batch', the paper's). */
  selection?: Selection;
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** Decoupled weight decay of the dense parameters with two or more dimensions (see param-groups.ts). */
  weightDecay?: number;
  /** Parameter groups with their own lr and weight decay, matched by name (see param-groups.ts for the defaults). */
  groups?: GroupOptions[];
  /** Clip the global L2 norm of the gradients being applied (sparse and dense) to this. */
  maxGradNorm?: number;
  /** Beyond the paper: every `every` steps, swap `fraction` of each tensor's components (see reselection.ts). */
  reselect?: { every: number; fraction: number };
}

/** What `stateDict()` returns: enough, with the base model, to resume bit-exactly. */
export interface SIFTStateDict {
  step: number;
  /** Each group's current lr and weight decay, in group order. */
  groups: { lr: number; weightDecay: number }[];
  sparse: Record<string, IncrementState>;
  /** The densely trained parameters' current values, by name. */
  dense: Record<string, Tensor>;
  /** Their gradients accumulated since the last zeroGrad (a state saved between micro-batches), by name. */
  denseGrads: Record<string, Tensor>;
  denseOptimizer: OptimizerStateDict<AdamWOptions> | null;
}

/**
 * SIFT (Song et al., ICML 2024): sparse increments on the targeted parameters, chosen from the gradient, fed by
 * hooks that drop the dense gradient, stepped by AdamW on k-sized state and written into the weights at once; a
 * dense AdamW for the `dense` parameters. Usage: `loss.backward(); sift.step(); sift.zeroGrad()`.
 *
 * `paramGroups` are torch-style (each with its `lr`), so `LRScheduler` from @siftjs/nn drives SIFT unchanged.
 */
export class SIFT implements FineTuner {
  readonly sparse: SparseIncrement[] = [];
  readonly denseParams: { name: string; param: Tensor }[] = [];
  readonly paramGroups: ParamGroup[];
  readonly options: Readonly<SIFTOptions> & { selection: Selection };
  private readonly groupOf: Map<string, number>;
  private readonly denseOpt: AdamW | null;
  /** For each AdamW group, the SIFT group it mirrors. */
  private readonly denseGroupSource: number[] = [];
  private stepCount = 0;
  private unscaling: GradientUnscaling | null = null;

  constructor(model: Module, opts: SIFTOptions) {
    if (!(opts.density > 0 && opts.density <= 1)) throw new RangeError(`SIFT: density must be in (0, 1], got ${opts.density}`);
    if (opts.reselect && !(Number.isInteger(opts.reselect.every) && opts.reselect.every > 0 && opts.reselect.fraction > 0 && opts.reselect.fraction < 1)) {
      throw new RangeError(`SIFT: reselect needs a whole 'every' ≥ 1 and 0 < fraction < 1, got ${JSON.stringify(opts.reselect)}`);
    }
    this.options = { lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, selection: 'first-batch', ...opts };
    const named = [...model.namedParameters()];
    // Nothing is silently frozen: every pattern must match a parameter.
    for (const [what, patterns] of [['target', opts.targets], ['dense', opts.dense ?? []]] as const) {
      for (const t of patterns) if (!named.some(([name]) => matchesAny(name, [t]))) throw new SIFTError(`SIFT: the ${what} pattern '${t}' matches no parameter of the model`);
    }
    for (const [name, p] of named) {
      if (matchesAny(name, opts.targets)) this.sparse.push(new SparseIncrement(name, p, opts.density, this.options.selection));
      else if (opts.dense && matchesAny(name, opts.dense)) {
        p.requiresGrad = true;
        this.denseParams.push({ name, param: p });
      } else p.requiresGrad = false;
    }
    const { groups, groupOf } = buildGroups(
      this.sparse.map((s) => s.name),
      this.denseParams,
      { lr: this.options.lr as number, weightDecay: this.options.weightDecay as number, groups: opts.groups },
    );
    this.paramGroups = groups;
    this.groupOf = groupOf;
    const { betas, eps } = this.options;
    const denseGroups: { params: Tensor[]; lr: number; weightDecay: number }[] = [];
    groups.forEach((g, i) => {
      const params = this.denseParams.filter((d) => groupOf.get(d.name) === i).map((d) => d.param);
      if (params.length === 0) return;
      denseGroups.push({ params, lr: g.lr, weightDecay: g.weightDecay });
      this.denseGroupSource.push(i);
    });
    this.denseOpt = denseGroups.length ? new AdamW(denseGroups, { betas, eps }) : null;
  }

  /** 'random' when the components are chosen at random (the random-index baseline), else 'sift'. */
  get method(): string {
    return this.options.selection === 'random' ? 'random' : 'sift';
  }

  /** The first group's learning rate (every group's, unless groups set their own). */
  get lr(): number {
    return this.paramGroups[0].lr;
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.stepCount;
  }

  /** Trainable components: k per sparse tensor plus every dense parameter element. */
  trainableCount(): number {
    return this.sparse.reduce((n, s) => n + s.k, 0) + this.denseParams.reduce((n, d) => n + d.param.size, 0);
  }

  /**
   * One optimizer step: due re-selections swap components, the applied gradients are clipped together, each sparse
   * tensor steps its increment and writes it into the weight, and the dense parameters take an AdamW step. A
   * tensor that received no gradient since the last zeroGrad is not stepped.
   */
  step(): void {
    for (const s of this.sparse) s.prepareStep();
    if (this.options.maxGradNorm !== undefined) this.clip(this.options.maxGradNorm);
    const [beta1, beta2] = this.options.betas as [number, number];
    const eps = this.options.eps as number;
    for (const s of this.sparse) {
      const g = this.paramGroups[this.groupOf.get(s.name) as number];
      s.stepIncrement({ lr: g.lr, beta1, beta2, eps, weightDecay: g.weightDecay });
    }
    if (this.denseOpt) {
      this.denseOpt.paramGroups.forEach((dg, i) => {
        const g = this.paramGroups[this.denseGroupSource[i]];
        dg.lr = g.lr;
        dg.weightDecay = g.weightDecay;
      });
      this.denseOpt.step();
    }
    this.stepCount++;
    this.scheduleReselection();
  }

  /**
   * Scales exactly the gradients being applied — sparse and dense — to a global norm ≤ max, without reading back.
   * The squares are summed in the backend's widest float, as clipGradNorm_ does for the dense baselines.
   */
  private clip(maxNorm: number): void {
    noGrad(() =>
      scope(() => {
        const grads = [...this.sparse.filter((s) => s.ready).map((s) => s.grad), ...this.denseParams.map((d) => d.param.grad).filter((g): g is Tensor => g !== null)];
        if (grads.length === 0) return;
        const wide = widestFloat(grads[0].backend);
        // One gradient's squares and one scaled copy at a time (memoryReport counts the largest).
        const norm = stack(grads.map((g) => scope(() => g.cast(wide).square().sum()))).sum().sqrt();
        const coef = norm.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1);
        for (const g of grads) scope(() => g.copy_(g.mul(coef.cast(g.dtype))));
      }),
    );
  }

  /** The most clip() holds at once beyond the gradients (its scalars aside): one gradient's widened squares, or its scaled copy. */
  private clipBytes(): number {
    if (this.options.maxGradNorm === undefined) return 0;
    const grads = [...this.sparse.map((s) => ({ n: s.k, dtype: s.dtype, backend: s.param.backend })), ...this.denseParams.map((d) => ({ n: d.param.size, dtype: d.param.dtype, backend: d.param.backend }))];
    return grads.reduce((most, g) => {
      const wide = widestFloat(g.backend);
      const squares = (wide === g.dtype ? 1 : 2) * g.n * bytesPerElement(wide);
      return Math.max(most, squares, g.n * bytesPerElement(g.dtype));
    }, 0);
  }

  /** Frees the applied gradients. A selection's sums and a re-selection's nominees are kept: not yet applied. */
  /** Gradients arrive `scale` × the loss's: the sparse tensors' hooks and the dense parameters' divide them on arrival. */
  setLossScale(scale: number): void {
    this.unscaling ??= new GradientUnscaling(this.denseParams);
    this.unscaling.scale = scale;
    for (const s of this.sparse) s.lossScale = scale;
  }

  /**
   * The step is skipped because a gradient is not finite (GradScaler): each tensor forgets a choice of components
   * or re-selection nominees made from these gradients, so nothing is chosen from an overflowed gradient. Call
   * zeroGrad after, as after a step.
   */
  discardBackward(): void {
    for (const s of this.sparse) s.discardBackward();
  }

  zeroGrad(): void {
    for (const s of this.sparse) s.zeroGrad();
    this.denseOpt?.zeroGrad();
  }

  /** The live state (tensors are not copies): with the base model, enough to resume bit-exactly. */
  stateDict(): SIFTStateDict {
    return {
      step: this.stepCount,
      groups: this.paramGroups.map((g) => ({ lr: g.lr, weightDecay: g.weightDecay })),
      sparse: Object.fromEntries(this.sparse.map((s) => [s.name, incrementState(s)])),
      dense: Object.fromEntries(this.denseParams.map((d) => [d.name, d.param])),
      denseGrads: Object.fromEntries(this.denseParams.flatMap((d) => (d.param.grad ? [[d.name, d.param.grad]] : []))),
      denseOptimizer: this.denseOpt?.stateDict() ?? null,
    };
  }

  /**
   * Restores a state saved by `stateDict()` from a SIFT over the same model and targets: the sparse state and the
   * weights it implies, the dense parameters, their pending gradients and their optimizer, the step count and the
   * groups' hyper-parameters.
   */
  loadStateDict(sd: SIFTStateDict): void {
    const names = new Set(this.sparse.map((s) => s.name));
    const missing = [...names].filter((n) => !(n in sd.sparse));
    const unexpected = Object.keys(sd.sparse).filter((n) => !names.has(n));
    if (missing.length || unexpected.length) {
      throw new Error(`SIFT loadStateDict: sparse tensors differ (missing: ${missing.join(', ') || 'none'}; unexpected: ${unexpected.join(', ') || 'none'})`);
    }
    if (sd.groups.length !== this.paramGroups.length) throw new Error(`SIFT loadStateDict: ${sd.groups.length} parameter groups saved, ${this.paramGroups.length} here`);
    for (const s of this.sparse) loadIncrementState(s, sd.sparse[s.name]);
    for (const d of this.denseParams) {
      const saved = sd.dense[d.name];
      if (!saved) throw new Error(`SIFT loadStateDict: dense parameter ${d.name} is missing`);
      if (saved.size !== d.param.size) throw new Error(`SIFT loadStateDict: dense parameter ${d.name} has ${saved.size} elements saved, ${d.param.size} here`);
      noGrad(() => d.param.copy_(saved.reshape(d.param.shape).cast(d.param.dtype)));
      // The gradient of the passes already run in an unfinished step, else none.
      d.param.grad?.dispose();
      const grad = sd.denseGrads?.[d.name];
      d.param.grad = grad ? keep(noGrad(() => grad.reshape(d.param.shape).cast(d.param.dtype).clone())) : null;
    }
    if (this.denseOpt && sd.denseOptimizer) this.denseOpt.loadStateDict(sd.denseOptimizer);
    this.stepCount = sd.step;
    sd.groups.forEach((g, i) => Object.assign(this.paramGroups[i], g));
  }

  /** A re-selection falls due after every `every`-th step (a function of the step count alone). */
  private scheduleReselection(): void {
    const r = this.options.reselect;
    if (!r || this.stepCount % r.every !== 0) return;
    for (const s of this.sparse) if (s.indices) s.requestReselection(r.fraction);
  }

  /**
   * Each selected tensor's k-sized gradient (and a due re-selection's nominees') and its increment δ, or the sums a
   * choice in progress is made from; each dense parameter's gradient and the parameter.
   */
  stepTensors(): StepTensors {
    const gradients: [string, Tensor][] = [];
    const values: [string, Tensor][] = [];
    for (const s of this.sparse) {
      if (!s.indices) {
        // Still choosing over several passes: nothing is applied yet, but the sums the choice will be made from are.
        for (const [key, t] of Object.entries(s.selector.buffers())) gradients.push([`${s.name} (choosing, ${key})`, t]);
        continue;
      }
      gradients.push([s.name, s.grad]);
      // A due re-selection's nominees enter with their own gradient at the step's swap.
      const nominated = s.reselection.nomineeGrad;
      if (nominated) gradients.push([`${s.name} (re-selection nominees)`, nominated]);
      if (s.delta) values.push([s.name, s.delta]);
    }
    for (const d of this.denseParams) {
      if (d.param.grad) gradients.push([d.name, d.param.grad]);
      values.push([d.name, d.param]);
    }
    return { gradients, values };
  }

  /**
   * Bytes SIFT keeps (sparse state, selection buffers, the dense parameters' gradients and moments) and the most it
   * will hold beyond them during the next backward and step (`peakTransient`, see memory.ts).
   */
  memoryReport(): MemoryReport {
    const sum = { values: 0, indices: 0, optimizerState: 0, gradients: 0, selectionBuffers: 0 };
    const byDtype: MemoryReport['byDtype'] = {};
    for (const s of this.sparse) {
      const { int32, ...parts } = residentBytes(s);
      for (const [k, v] of Object.entries(parts)) sum[k as keyof typeof sum] += v;
      addBytes(byDtype, 'int32', int32);
      addBytes(byDtype, s.dtype, Object.values(parts).reduce((n, v) => n + v, 0) - int32);
    }
    // The backward's hooks, then step() on what they left: the larger of the two is the phase's peak.
    const hooks = this.sparse.map(nextStepBytes);
    const afterBackward = hooks.reduce((n, h) => n + Math.max(0, h.growth), 0);
    const swaps = this.sparse.map(stepBytes);
    const swapped = swaps.reduce((n, p) => n + Math.max(0, p.growth), 0);
    const step = afterBackward + Math.max(sequencePeak(swaps), swapped + this.clipBytes());
    const denseBytes = this.denseParams.reduce((n, d) => n + d.param.size * bytesPerElement(d.param.dtype), 0);
    for (const d of this.denseParams) addBytes(byDtype, d.param.dtype, 3 * d.param.size * bytesPerElement(d.param.dtype));
    return memoryReport({
      ...sum,
      byDtype,
      gradients: sum.gradients + denseBytes,
      optimizerState: sum.optimizerState + 2 * denseBytes,
      peakTransientGradient: Math.max(0, ...this.sparse.map((s) => s.param.size * bytesPerElement(s.param.dtype))),
      peakTransient: Math.max(sequencePeak(hooks), step),
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
    this.unscaling?.remove();
    for (const s of this.sparse) s.dispose();
    this.denseOpt?.dispose();
  }
}
