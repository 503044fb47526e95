import type { MemoryReport } from './memory.js';

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
  /** The settings, as strings, for logs and saved metadata. */
  describe(): Record<string, string>;
  dispose(): void;
}
