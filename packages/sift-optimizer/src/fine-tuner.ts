import type { Tensor } from '@siftjs/tensor';
import type { MemoryReport } from './memory.js';

/** Tensors by parameter name. */
export type NamedTensors = readonly (readonly [string, Tensor])[];

/**
 * What one optimizer step reads and writes, by parameter name: `gradients` are the gradients it applies (for SIFT
 * each selected tensor's k-sized gradient, for the dense methods each trained parameter's .grad) and `values` the
 * tensors it changes (SIFT's increments δ, the dense parameters).
 */
export interface StepTensors {
  gradients: NamedTensors;
  values: NamedTensors;
}

/**
 * What every fine-tuning method offers a training loop — SIFT and each baseline alike — so one trainer runs them
 * all: `loss.backward(); method.step(); method.zeroGrad()`, with `paramGroups[0].lr` driven by an LRScheduler.
 */
export interface FineTuner {
  /** 'sift', 'full', 'lora', 'random', 'bitfit' or 'head'. */
  readonly method: string;
  readonly paramGroups: { lr: number }[];
  step(): void;
  zeroGrad(): void;
  /** Components that change during training. */
  trainableCount(): number;
  memoryReport(): MemoryReport;
  /** The gradients the next step applies and the tensors it changes (what loss scaling and the finite checks read). */
  stepTensors(): StepTensors;
  /** The step is skipped (a gradient overflowed): forget anything learnt from these gradients besides them. */
  discardBackward?(): void;
  /**
   * From the next backward on, gradients are `scale` × the loss's (GradScaler): the tuner divides each as it
   * arrives, so the gradients it applies and everything it keeps across steps are the loss's own.
   */
  setLossScale(scale: number): void;
  /** The settings, as strings, for logs and saved metadata. */
  describe(): Record<string, string>;
  dispose(): void;
}
