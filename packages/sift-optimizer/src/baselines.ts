import { AdamW, type AdamWOptions, applyLoRA, clipGradNorm_, type LoRALinear, type Module, type OptimizerStateDict } from '@siftjs/nn';
import { bytesPerElement, type Tensor } from '@siftjs/tensor';
import type { FineTuner, StepTensors } from './fine-tuner.js';
import { GradientUnscaling } from './loss-scale.js';
import { addBytes, type MemoryReport, memoryReport } from './memory.js';
import { SIFT, type SIFTOptions } from './sift.js';
import { matchesAny } from './targets.js';

/** The optimizer settings every method shares (defaults as SIFT's: AdamW, no weight decay). */
export interface TrainOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Clip the global L2 norm of the trained gradients to this. */
  maxGradNorm?: number;
}

/**
 * The dense baselines: AdamW over a chosen subset of the parameters, every other one frozen (requiresGrad off,
 * so no gradient is even computed for it). Full fine-tuning, BitFit, head-only and LoRA's adapters are each a
 * choice of that subset.
 */
export class DenseFineTuner implements FineTuner {
  readonly trainable: { name: string; param: Tensor }[] = [];
  readonly optimizer: AdamW;
  private readonly maxGradNorm: number | undefined;
  private unscaling: GradientUnscaling | null = null;

  constructor(
    readonly method: string,
    model: Module,
    isTrainable: (name: string, param: Tensor) => boolean,
    opts: TrainOptions = {},
  ) {
    for (const [name, p] of model.namedParameters()) {
      p.requiresGrad = isTrainable(name, p);
      if (p.requiresGrad) this.trainable.push({ name, param: p });
    }
    if (this.trainable.length === 0) throw new Error(`${method}: no parameter of the model is trainable`);
    const { lr = 1e-4, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0 } = opts;
    this.optimizer = new AdamW(this.trainable.map((t) => t.param), { lr, betas, eps, weightDecay });
    this.maxGradNorm = opts.maxGradNorm;
  }

  get paramGroups(): { lr: number }[] {
    return this.optimizer.paramGroups;
  }

  step(): void {
    if (this.maxGradNorm !== undefined) clipGradNorm_(this.trainable.map((t) => t.param), this.maxGradNorm).dispose();
    this.optimizer.step();
  }

  zeroGrad(): void {
    this.optimizer.zeroGrad();
  }

  trainableCount(): number {
    return this.trainable.reduce((n, t) => n + t.param.size, 0);
  }

  setLossScale(scale: number): void {
    this.unscaling ??= new GradientUnscaling(this.trainable);
    this.unscaling.scale = scale;
  }

  /** Each trained parameter's gradient (where backward gave one) and the parameter. */
  stepTensors(): StepTensors {
    return {
      gradients: this.trainable.flatMap((t) => (t.param.grad ? [[t.name, t.param.grad] as const] : [])),
      values: this.trainable.map((t) => [t.name, t.param] as const),
    };
  }

  /** Dense gradients of every trainable parameter and AdamW's two moments of each. */
  memoryReport(): MemoryReport {
    const bytes = this.trainable.reduce((n, t) => n + t.param.size * bytesPerElement(t.param.dtype), 0);
    const byDtype: MemoryReport['byDtype'] = {};
    for (const t of this.trainable) addBytes(byDtype, t.param.dtype, 3 * t.param.size * bytesPerElement(t.param.dtype));
    return memoryReport({ values: 0, indices: 0, gradients: bytes, optimizerState: 2 * bytes, selectionBuffers: 0, peakTransientGradient: 0, peakTransient: 0, byDtype });
  }

  describe(): Record<string, string> {
    return { method: this.method, trainable: JSON.stringify(this.trainable.map((t) => t.name)) };
  }

  stateDict(): OptimizerStateDict<AdamWOptions> {
    return this.optimizer.stateDict();
  }

  loadStateDict(sd: OptimizerStateDict<AdamWOptions>): void {
    this.optimizer.loadStateDict(sd);
  }

  /** Frees the gradients and AdamW's moments (2× the trained parameters' bytes); the model keeps its weights. */
  dispose(): void {
    this.unscaling?.remove();
    this.optimizer.dispose();
  }
}

/** Full fine-tuning: AdamW on every parameter. */
export function fullFineTune(model: Module, opts: TrainOptions = {}): DenseFineTuner {
  return new DenseFineTuner('full', model, () => true, opts);
}

/** Only the `dense` parameters (a classifier head) train. */
export function headOnly(model: Module, opts: TrainOptions & { dense: string[] }): DenseFineTuner {
  return new DenseFineTuner('head', model, (name) => matchesAny(name, opts.dense), opts);
}

/** BitFit (Ben Zaken et al. 2022): every bias term trains, and the `dense` head. */
export function bitFit(model: Module, opts: TrainOptions & { dense?: string[] }): DenseFineTuner {
  return new DenseFineTuner('bitfit', model, (name) => /(^|\.)bias$/.test(name) || matchesAny(name, opts.dense ?? []), opts);
}

export interface LoRAMethodOptions extends TrainOptions {
  rank: number;
  alpha?: number;
  /** Module paths to adapt, as applyLoRA takes them ('query', 'c_attn'). */
  targets: string[];
  dense?: string[];
}

/** LoRA adapters on `targets` (the model is changed in place: those layers are wrapped), plus the `dense` head. */
export function lora(model: Module, opts: LoRAMethodOptions): DenseFineTuner & { adapters: Map<string, LoRALinear> } {
  const adapters = applyLoRA(model, { rank: opts.rank, alpha: opts.alpha ?? opts.rank, targets: opts.targets });
  const isAdapter = (name: string) => name.includes('.lora_A.') || name.includes('.lora_B.');
  const tuner = new DenseFineTuner('lora', model, (name) => isAdapter(name) || matchesAny(name, opts.dense ?? []), opts);
  return Object.assign(tuner, { adapters });
}

/** The parameters one unit of LoRA rank adds on `targets` (in + out features of each adapted layer). */
export function loraParamsPerRank(model: Module, targets: string[]): number {
  let n = 0;
  for (const [path, m] of model.namedModules()) {
    const w = (m as unknown as { weight?: Tensor }).weight;
    if (path && w && w.rank === 2 && targets.some((t) => path === t || path.endsWith(`.${t}`))) n += w.shape[0] + w.shape[1];
  }
  if (n === 0) throw new Error(`LoRA: no 2-D layer matches the targets ${targets.join(', ')}`);
  return n;
}

/** The LoRA rank whose adapters hold closest to `budget` trainable parameters (at least 1). */
export function loraRankForBudget(model: Module, targets: string[], budget: number): number {
  return Math.max(1, Math.round(budget / loraParamsPerRank(model, targets)));
}

/** Random-index sparse: SIFT's machinery with uniformly random components at the same density. */
export function randomSparse(model: Module, opts: Omit<SIFTOptions, 'selection'>): SIFT {
  return new SIFT(model, { ...opts, selection: 'random' });
}

export type MethodName = 'sift' | 'full' | 'lora' | 'random' | 'bitfit' | 'head';
export const METHODS: readonly MethodName[] = ['sift', 'full', 'lora', 'random', 'bitfit', 'head'];

export interface MethodOptions extends TrainOptions {
  method: MethodName;
  /** SIFT and random: the fraction of each targeted tensor that trains. */
  density?: number;
  /** SIFT and random: parameter-name patterns; LoRA: module paths. */
  targets?: string[];
  /** Trained densely by every method but full (which trains everything anyway). */
  dense?: string[];
  selection?: SIFTOptions['selection'];
  reselect?: SIFTOptions['reselect'];
  loraRank?: number;
  loraAlpha?: number;
}

/** One method by name, for trainers and the CLI. */
export function createFineTuner(model: Module, o: MethodOptions): FineTuner {
  const train: TrainOptions = { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay, maxGradNorm: o.maxGradNorm };
  for (const k of Object.keys(train) as (keyof TrainOptions)[]) if (train[k] === undefined) delete train[k];
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`method '${o.method}' needs ${what}`);
    return value;
  };
  switch (o.method) {
    case 'sift':
    case 'random':
      return new SIFT(model, {
        ...train,
        density: need(o.density, 'a density'),
        targets: need(o.targets, 'targets'),
        dense: o.dense,
        selection: o.method === 'random' ? 'random' : (o.selection ?? 'first-batch'),
        reselect: o.reselect,
      });
    case 'full':
      return fullFineTune(model, train);
    case 'head':
      return headOnly(model, { ...train, dense: need(o.dense, 'dense (the head)') });
    case 'bitfit':
      return bitFit(model, { ...train, dense: o.dense });
    case 'lora':
      return lora(model, { ...train, rank: need(o.loraRank, 'a LoRA rank'), alpha: o.loraAlpha, targets: need(o.targets, 'targets'), dense: o.dense });
    default:
      throw new Error(`unknown method '${String(o.method)}' (one of ${METHODS.join(', ')})`);
  }
}

