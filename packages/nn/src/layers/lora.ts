import { noGrad, scope, type Tensor } from '@siftjs/tensor';
import { kaimingUniform_ } from '../init.js';
import { Module } from '../module.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';

/** A layer LoRA can wrap: a weight matrix applied to the last dim (Linear's [out, in], or [in, out] if fanInFanOut). */
export interface LinearLike extends Module {
  weight: Tensor;
  forward(x: Tensor): Tensor;
  /** True for Hugging Face's Conv1D, whose weight is stored [in, out]. */
  readonly fanInFanOut?: boolean;
}

export interface LoRAOptions {
  rank: number;
  /** The update is scaled by alpha / rank (default alpha = rank: scale 1). */
  alpha?: number;
  dropout?: number;
}

/**
 * Low-rank adaptation (Hu et al. 2021), as PEFT does it: y = base(x) + (alpha/r)·B(A(dropout(x))), the base layer
 * frozen, A Kaiming-uniform and B zero (so training starts from the base model). merge() folds the update into
 * the base weight for inference; unmerge() takes it out again.
 */
export class LoRALinear extends Module {
  base_layer: LinearLike;
  lora_dropout: Dropout;
  lora_A: Linear;
  lora_B: Linear;
  readonly scaling: number;
  merged = false;

  constructor(base: LinearLike, { rank, alpha = rank, dropout = 0 }: LoRAOptions) {
    super();
    if (!Number.isInteger(rank) || rank < 1) throw new RangeError(`LoRA: rank must be a positive integer, got ${rank}`);
    const [rows, cols] = base.weight.shape;
    const [inF, outF] = base.fanInFanOut ? [rows, cols] : [cols, rows];
    this.base_layer = base;
    for (const p of base.parameters()) p.requiresGrad = false;
    this.lora_dropout = new Dropout(dropout);
    this.lora_A = new Linear(inF, rank, { bias: false, dtype: base.weight.dtype });
    kaimingUniform_(this.lora_A.weight, { a: Math.sqrt(5) });
    this.lora_B = new Linear(rank, outF, { bias: false, dtype: base.weight.dtype });
    noGrad(() => this.lora_B.weight.fill_(0));
    this.scaling = alpha / rank;
  }

  forward(x: Tensor): Tensor {
    if (this.merged) return this.base_layer.forward(x);
    return scope(() => this.base_layer.forward(x).add(this.lora_B.forward(this.lora_A.forward(this.lora_dropout.forward(x))).mul(this.scaling)));
  }

  /** ΔW = (alpha/r)·B·A in the base weight's layout. */
  delta(): Tensor {
    return scope(() => {
      const d = this.lora_B.weight.matmul(this.lora_A.weight).mul(this.scaling); // [out, in]
      return this.base_layer.fanInFanOut ? d.transpose().contiguous() : d;
    });
  }

  merge(): void {
    if (this.merged) return;
    noGrad(() => scope(() => this.base_layer.weight.copy_(this.base_layer.weight.add(this.delta()))));
    this.merged = true;
  }

  unmerge(): void {
    if (!this.merged) return;
    noGrad(() => scope(() => this.base_layer.weight.copy_(this.base_layer.weight.sub(this.delta()))));
    this.merged = false;
  }
}

export interface ApplyLoRAOptions extends LoRAOptions {
  /** Module names to adapt: a child matches when its name, or the end of its dotted path, equals a target. */
  targets: string[];
  /** Modules kept fully trainable beside the adapters (PEFT's modules_to_save), e.g. a classifier head. */
  alsoTrain?: string[];
}

/**
 * Wraps every matching layer of `model` in a LoRALinear and freezes every other parameter (as PEFT does).
 * Returns the wrapped layers by path; names gain `.base_layer.` and `.lora_A.` / `.lora_B.`.
 */
export function applyLoRA(model: Module, opts: ApplyLoRAOptions): Map<string, LoRALinear> {
  const wrapped = new Map<string, LoRALinear>();
  const matches = (path: string) => opts.targets.some((t) => path === t || path.endsWith(`.${t}`));
  const keep = opts.alsoTrain ?? [];
  for (const [name, p] of model.namedParameters()) {
    p.requiresGrad = keep.some((m) => name === m || name.startsWith(`${m}.`) || name.includes(`.${m}.`));
  }
  for (const [path, parent] of [...model.namedModules()]) {
    for (const [name, child] of [...parent.namedChildren()]) {
      const full = path ? `${path}.${name}` : name;
      if (!matches(full) || child instanceof LoRALinear || !('weight' in child)) continue;
      const lora = new LoRALinear(child as LinearLike, opts);
      (parent as unknown as Record<string, Module>)[name] = lora;
      wrapped.set(full, lora);
    }
  }
  if (wrapped.size === 0) throw new Error(`applyLoRA: no module matches the targets ${opts.targets.join(', ')}`);
  return wrapped;
}
