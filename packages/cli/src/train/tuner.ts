import type { Module } from '@siftjs/nn';
import { createFineTuner, type FineTuner, loraRankForBudget, matchesAny, type MethodName } from '@siftjs/sift-optimizer';
import type { TaskModel } from '../task-model.js';

/**
 * The tuner `sift finetune --method` builds over a task model (a browser page builds the same): the head trained
 * densely by every method; SIFT and random-index sparse on the architecture's targets at `density`; LoRA on the same
 * layers at `loraRank`, or, without one, at the rank whose trainable count is closest to SIFT's at that density.
 */
export function buildTuner(tm: TaskModel, o: { method: MethodName; lr: number; density: number; loraRank?: number }): FineTuner {
  const common = { method: o.method, lr: o.lr, dense: tm.head };
  if (o.method === 'lora') {
    const rank = o.loraRank ?? loraRankForBudget(tm.model, tm.loraTargets, sparseBudget(tm.model, tm.siftTargets, o.density));
    return createFineTuner(tm.model, { ...common, loraRank: rank, loraAlpha: 2 * rank, targets: tm.loraTargets });
  }
  return createFineTuner(tm.model, { ...common, density: o.density, targets: tm.siftTargets });
}

/** SIFT's k over the targets at this density: the budget LoRA is sized to. */
function sparseBudget(model: Module, targets: string[], density: number): number {
  let k = 0;
  for (const [name, p] of model.namedParameters()) if (p.rank >= 2 && matchesAny(name, targets)) k += Math.ceil(density * p.size);
  return k;
}
