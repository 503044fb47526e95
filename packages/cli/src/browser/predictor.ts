import type { FineTuner } from '@siftjs/sift-optimizer';
import { noGrad } from '@siftjs/tensor';
import { makeBatches } from '../data/batches.js';
import { encodeExamples } from '../data/encode.js';
import type { TaskModel } from '../task-model.js';
import { batchTensors } from '../train/tensors.js';

/** A trained classifier kept after its run: one text in, each class's probability out. */
export interface Predictor {
  /** The classes in label order (as the data named them) and each one's softmax probability for `text`. */
  classify(text: string): Promise<{ label: string; probabilities: { label: string; probability: number }[] }>;
  /** Frees the model and its tuner. */
  dispose(): void;
}

/** The predictor of a trained task model; the text is cut to `maxLength` tokens as in training. */
export function predictor(tm: TaskModel, tuner: FineTuner, { maxLength, labels }: { maxLength: number; labels: string[] }): Predictor {
  let disposed = false;
  return {
    async classify(text) {
      if (disposed) throw new Error('classify: the model was freed (train again to try it)');
      const [encoded] = encodeExamples(tm.tokenizer, [{ text, label: 0 }], { maxLength });
      if (encoded.ids.length === 0) throw new RangeError('classify: the text gives no token');
      const [batch] = makeBatches([encoded], { batchSize: 1, padId: tm.tokenizer.padId });
      const t = batchTensors(batch);
      const probs = noGrad(() => {
        const { logits, loss } = tm.forward(t.ids, t.mask, null);
        loss?.dispose();
        const p = logits.softmax(-1);
        logits.dispose();
        return p;
      });
      t.dispose();
      let values: ArrayLike<number>;
      try {
        values = await probs.toArray();
      } finally {
        probs.dispose();
      }
      const probabilities = labels.map((label, i) => ({ label, probability: values[i] }));
      const best = probabilities.reduce((a, b) => (b.probability > a.probability ? b : a));
      return { label: best.label, probabilities };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tuner.dispose();
      tm.model.dispose();
    },
  };
}
