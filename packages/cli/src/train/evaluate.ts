import { concat, noGrad, stack, type Tensor, type TypedArray } from '@siftjs/tensor';
import type { TokenBatch } from '../data/batches.js';
import type { TaskModel } from '../model-dir.js';
import { batchTensors } from './tensors.js';

export interface Evaluation {
  /** Mean loss per example (classification) or per batch (causal-LM). */
  loss: number;
  /** Share of examples whose arg-max class is the label (classification only). */
  accuracy: number | null;
  examples: number;
}

/** What one pass leaves to read: every batch's loss and predicted classes, joined on the device. */
interface Pass {
  /** [batches with a loss] */
  losses: Tensor | null;
  /** Each loss's weight: rows (classification) or the tokens the loss covers (causal-LM, instruction). */
  weights: number[];
  /** [examples] arg-max classes (classification). */
  preds: Tensor | null;
  labels: number[];
  examples: number;
}

/**
 * The forward passes, without gradients. The values are read once at the end rather than per batch, so a backend
 * whose reads wait on the device (WebGPU) waits twice per evaluation, not twice per batch.
 */
function pass(task: TaskModel, batches: readonly TokenBatch[]): Pass {
  const losses: Tensor[] = [];
  const preds: Tensor[] = [];
  const out: Pass = { losses: null, weights: [], preds: null, labels: [], examples: 0 };
  try {
    noGrad(() => {
      for (const b of batches) {
        const t = batchTensors(b);
        const { loss, logits } = task.forward(t.ids, t.mask, t.labels);
        const rows = b.shape[0];
        if (loss) {
          losses.push(loss);
          out.weights.push(task.task === 'classification' ? rows : t.targets);
        }
        if (task.task === 'classification' && b.labels) {
          preds.push(logits.argmax(-1));
          for (let i = 0; i < rows; i++) out.labels.push(b.labels[i]);
        }
        out.examples += rows;
        logits.dispose();
        t.dispose();
      }
      out.losses = losses.length ? stack(losses) : null;
      out.preds = preds.length ? concat(preds) : null;
    });
  } finally {
    for (const t of [...losses, ...preds]) t.dispose();
  }
  return out;
}

/** Sums in batch order in float64, exactly as a per-batch read would. */
function summarize(task: TaskModel, p: Pass, losses: TypedArray | null, preds: TypedArray | null): Evaluation {
  let loss = 0;
  let weight = 0;
  p.weights.forEach((w, i) => {
    loss += (losses as TypedArray)[i] * w;
    weight += w;
  });
  let correct = 0;
  if (preds) for (let i = 0; i < p.labels.length; i++) if (preds[i] === p.labels[i]) correct++;
  return { loss: weight ? loss / weight : NaN, accuracy: task.task === 'classification' ? correct / Math.max(1, p.examples) : null, examples: p.examples };
}

/** Loss and accuracy over `batches`, without gradients, on a backend that reads synchronously (the CPU). */
export function evaluate(task: TaskModel, batches: readonly TokenBatch[]): Evaluation {
  const p = pass(task, batches);
  try {
    return summarize(task, p, p.losses?.toArraySync() ?? null, p.preds?.toArraySync() ?? null);
  } finally {
    p.losses?.dispose();
    p.preds?.dispose();
  }
}

/** `evaluate` on any backend (WebGPU included): the same numbers, read with `await toArray()`. */
export async function evaluateAsync(task: TaskModel, batches: readonly TokenBatch[]): Promise<Evaluation> {
  const p = pass(task, batches);
  try {
    return summarize(task, p, p.losses ? await p.losses.toArray() : null, p.preds ? await p.preds.toArray() : null);
  } finally {
    p.losses?.dispose();
    p.preds?.dispose();
  }
}
