import { join } from 'node:path';
import { BertForSequenceClassification, loadSafetensors } from '@siftjs/models';
import { scope } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';

const golden = join(__dirname, '..', 'golden', 'bert-tiny-cls');

function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

describe.each(backendsUnderTest())('BERT on $name', (backend) => {
  beforeAll(() => backend.start());

  it('sequence classification with padding and token types matches PyTorch (tests/golden/bert.py)', () => {
    const ref = loadSafetensors(join(golden, 'golden.safetensors'));
    const model = BertForSequenceClassification.fromPretrained(golden, { strict: true }).eval();
    scope(() => {
      const { logits, loss } = model.forward(ref.input_ids, { attentionMask: ref.attention_mask, tokenTypeIds: ref.token_type_ids, labels: ref.labels });
      expect(relError(logits.toArraySync(), ref.logits.toArraySync())).toBeLessThan(1e-5);
      expect(Math.abs(loss!.itemSync() - ref.loss.itemSync()) / ref.loss.itemSync()).toBeLessThan(1e-5);
      loss!.backward();
      const params = model.stateDict();
      for (const [key, g] of Object.entries(ref).filter(([k]) => k.startsWith('grad.'))) {
        expect(relError(params[key.slice(5)].grad!.toArraySync(), g.toArraySync()), key).toBeLessThan(1e-4);
      }
    });
    model.zeroGrad();
    model.dispose();
    for (const t of Object.values(ref)) t.dispose();
  });
});
