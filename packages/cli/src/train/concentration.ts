import { analyzeGradients, type GradientShare, matchesAny } from '@siftjs/sift-optimizer';
import type { Tensor } from '@siftjs/tensor';
import type { TokenBatch } from '../data/batches.js';
import type { TaskModel } from '../model-dir.js';
import { batchTensors } from './tensors.js';

/** The task loss of one token batch, as analyzeGradients calls it. */
function taskLoss(tm: TaskModel) {
  return (_model: unknown, b: TokenBatch): Tensor => {
    const t = batchTensors(b);
    const out = tm.forward(t.ids, t.mask, t.labels);
    out.logits.dispose();
    t.dispose();
    return out.loss as Tensor;
  };
}

/**
 * The paper's Figure 3(d) on a task: per targeted matrix, the share of the gradient's squared norm (summed over
 * `batches`) in the top x% of components, for the pretrained model and for the same architecture at random init.
 */
export async function gradientConcentration(
  pretrained: TaskModel,
  randomInit: TaskModel,
  batches: readonly TokenBatch[],
  fractions: number[],
): Promise<{ pretrained: GradientShare[]; randomInit: GradientShare[] }> {
  const of = (tm: TaskModel) =>
    analyzeGradients(tm.model, batches, { fractions, loss: taskLoss(tm), include: (name, p) => p.rank >= 2 && matchesAny(name, pretrained.siftTargets) });
  return { pretrained: await of(pretrained), randomInit: await of(randomInit) };
}
