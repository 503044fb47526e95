import { join } from 'node:path';
import {
  BertForMaskedLM,
  BertForSequenceClassification,
  BertModel,
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  RobertaModel,
} from '@siftjs/models';
import { loadSafetensors } from '@siftjs/safetensors';
import { noGrad } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectMatchesGolden } from '../support/golden.js';
import { values } from '../support/read.js';

const golden = join(__dirname, '..', 'golden', 'bert-tiny-cls');

describe.each(backendsUnderTest())('BERT on $name', (backend) => {
  beforeAll(() => backend.start());

  it('sequence classification with padding and token types matches PyTorch (tests/golden/bert.py)', async () => {
    const ref = loadSafetensors(join(golden, 'golden.safetensors'));
    const model = BertForSequenceClassification.fromPretrained(golden, { strict: true }).eval();
    await expectMatchesGolden(model, ref, () =>
      model.forward(ref.input_ids, { attentionMask: ref.attention_mask, tokenTypeIds: ref.token_type_ids, labels: ref.labels }),
    );
    model.dispose();
    for (const t of Object.values(ref)) t.dispose();
  });

  it('RoBERTa (padding-aware positions, <s> head, no pooler) matches PyTorch (tests/golden/bert.py)', async () => {
    const dir = join(__dirname, '..', 'golden', 'roberta-tiny-cls');
    const ref = loadSafetensors(join(dir, 'golden.safetensors'));
    const model = RobertaForSequenceClassification.fromPretrained(dir, { strict: true }).eval();
    await expectMatchesGolden(model, ref, () => model.forward(ref.input_ids, { attentionMask: ref.attention_mask, labels: ref.labels }));
    model.dispose();
    for (const t of Object.values(ref)) t.dispose();
  });

  it.each([
    ['bert-tiny-mlm', (dir: string) => BertForMaskedLM.fromPretrained(dir, { strict: true })],
    ['roberta-tiny-mlm', (dir: string) => RobertaForMaskedLM.fromPretrained(dir, { strict: true })],
  ] as const)('%s: the masked-LM head (decoder tied to the word embeddings) matches PyTorch', async (name, load) => {
    const dir = join(__dirname, '..', 'golden', name);
    const ref = loadSafetensors(join(dir, 'golden.safetensors'));
    const model = load(dir).eval();
    await expectMatchesGolden(model, ref, () => model.forward(ref.input_ids, { attentionMask: ref.attention_mask, tokenTypeIds: ref.token_type_ids, labels: ref.labels }));
    model.dispose();
    for (const t of Object.values(ref)) t.dispose();
  });

  it.each([
    ['bert-tiny-cls', (d: string) => BertModel.fromPretrained(d), (d: string) => BertForSequenceClassification.fromPretrained(d).bert],
    ['roberta-tiny-cls', (d: string) => RobertaModel.fromPretrained(d), (d: string) => RobertaForSequenceClassification.fromPretrained(d).roberta],
  ] as const)('%s: the base model loads the encoder of a task checkpoint (prefixed names, head left out)', async (name, loadBase, loadTaskEncoder) => {
    const dir = join(__dirname, '..', 'golden', name);
    const ref = loadSafetensors(join(dir, 'golden.safetensors'));
    const base = loadBase(dir).eval();
    const encoder = loadTaskEncoder(dir).eval();
    const a = noGrad(() => base.forward(ref.input_ids, { attentionMask: ref.attention_mask, tokenTypeIds: ref.token_type_ids }).hidden);
    const b = noGrad(() => encoder.forward(ref.input_ids, { attentionMask: ref.attention_mask, tokenTypeIds: ref.token_type_ids }).hidden);
    expect(await values(a)).toEqual(await values(b));
    for (const t of [a, b, ...Object.values(ref)]) t.dispose();
    base.dispose();
    encoder.dispose();
  });
});
