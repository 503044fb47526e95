import { noGrad } from '@siftjs/tensor';
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

/** Loss and accuracy over `batches`, without gradients. */
export function evaluate(task: TaskModel, batches: readonly TokenBatch[]): Evaluation {
  let loss = 0;
  let correct = 0;
  let examples = 0;
  let weight = 0;
  noGrad(() => {
    for (const b of batches) {
      const t = batchTensors(b);
      const out = task.forward(t.ids, t.mask, t.labels);
      const rows = b.shape[0];
      if (out.loss) {
        const w = task.task === 'classification' ? rows : t.tokens;
        loss += out.loss.itemSync() * w;
        weight += w;
        out.loss.dispose();
      }
      if (task.task === 'classification' && b.labels) {
        const pred = out.logits.argmax(-1);
        const p = pred.toArraySync();
        for (let i = 0; i < rows; i++) if (p[i] === b.labels[i]) correct++;
        pred.dispose();
      }
      examples += rows;
      out.logits.dispose();
      t.dispose();
    }
  });
  return { loss: weight ? loss / weight : NaN, accuracy: task.task === 'classification' ? correct / Math.max(1, examples) : null, examples };
}
