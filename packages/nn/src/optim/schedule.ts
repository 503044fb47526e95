/** Anything with torch-style parameter groups carrying a learning rate: the optimizers here, SIFT. */
export interface HasLearningRates {
  readonly paramGroups: { lr: number }[];
}

/** A learning-rate multiplier as a function of the step (0-based), like torch's LambdaLR. */
export type LRLambda = (step: number) => number;

/** Linear warm-up from 0 over `warmup` steps, then linear decay to 0 at `total` (Hugging Face's linear schedule). */
export function linearWarmupLinearDecay(warmup: number, total: number): LRLambda {
  return (s) => (s < warmup ? s / Math.max(1, warmup) : Math.max(0, (total - s) / Math.max(1, total - warmup)));
}

/** Linear warm-up, then half a cosine down to `minFactor` at `total` (Hugging Face's cosine schedule when 0). */
export function linearWarmupCosineDecay(warmup: number, total: number, minFactor = 0): LRLambda {
  return (s) => {
    if (s < warmup) return s / Math.max(1, warmup);
    const progress = Math.min(1, (s - warmup) / Math.max(1, total - warmup));
    return minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/** Sets each group's lr to its initial lr × lambda(step); call step() after each optimizer step. */
export class LRScheduler {
  private readonly baseLrs: number[];
  stepCount = 0;

  constructor(
    private readonly optimizer: HasLearningRates,
    private readonly lambda: LRLambda,
  ) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.apply();
  }

  step(): void {
    this.stepCount++;
    this.apply();
  }

  get lastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  private apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.baseLrs[i] * this.lambda(this.stepCount)));
  }
}
