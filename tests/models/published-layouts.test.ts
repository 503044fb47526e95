import { join } from 'node:path';
import {
  AutoModelForCausalLM,
  AutoModelForMaskedLM,
  BertForMaskedLM,
  BertForSequenceClassification,
  BertModel,
  GPT2ForSequenceClassification,
  GPT2LMHeadModel,
  GPT2Model,
  type FromPretrainedOptions,
  type PretrainedModel,
  type RawConfig,
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  RobertaModel,
} from '@siftjs/models';
import { loadSafetensors } from '@siftjs/safetensors';
import { noGrad } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectMatchesGolden, relError } from '../support/golden.js';
import { read } from '../support/read.js';

/**
 * Checkpoints in the layouts the most used base models are published in (tests/golden/gpt2_original.py and
 * bert_published.py): the original GPT-2 release (bare names, causal-mask buffers, no lm_head), bert-base-uncased
 * (LayerNorm gamma/beta, pooler, cls.predictions and cls.seq_relationship) and roberta-base (pooler, position_ids,
 * lm_head with its decoder stored). Each loads into every class that can use it, and matches PyTorch.
 */
const golden = (name: string) => join(__dirname, '..', 'golden', name);

/** Runs `load` collecting its notices. */
function noticed<M>(load: (onNotice: (m: string) => void) => M): { model: M; notices: string[] } {
  const notices: string[] = [];
  return { model: load((m) => notices.push(m)), notices };
}

describe.each(backendsUnderTest())('published layouts on $name', (backend) => {
  beforeAll(() => backend.start());

  describe('GPT-2 as OpenAI released it (wte.weight, h.0.…, h.N.attn.bias and masked_bias, no lm_head)', () => {
    const dir = golden('gpt2-original');

    it('GPT2LMHeadModel loads it, head tied to wte, and matches PyTorch (logits, loss, gradients), saying nothing', async () => {
      const ref = loadSafetensors(join(dir, 'golden.safetensors'));
      const { model, notices } = noticed((onNotice) => GPT2LMHeadModel.fromPretrained(dir, { onNotice, strict: true }).eval());
      expect(notices).toEqual([]);
      expect(model.lm_head.weight).toBe(model.transformer.wte.weight);
      await expectMatchesGolden(model, ref, () => model.forward(ref.input_ids, { labels: ref.input_ids }));
      model.dispose();
      for (const t of Object.values(ref)) t.dispose();
    });

    it('GPT2Model loads it as it is, and the prefixed task layout (gpt2-tiny) with transformer. stripped', async () => {
      const ref = loadSafetensors(join(dir, 'golden.safetensors'));
      const base = GPT2Model.fromPretrained(dir, { strict: true }).eval();
      const [hidden, want] = await read(() => [noGrad(() => base.forward(ref.input_ids)), ref.hidden]);
      expect(relError(hidden, want)).toBeLessThan(1e-5);
      base.dispose();
      for (const t of Object.values(ref)) t.dispose();

      const tinyRef = loadSafetensors(join(golden('gpt2-tiny'), 'golden.safetensors'));
      const lm = GPT2LMHeadModel.fromPretrained(golden('gpt2-tiny')).eval();
      const body = GPT2Model.fromPretrained(golden('gpt2-tiny')).eval();
      const [a, b] = await read(() => noGrad(() => [body.forward(tinyRef.input_ids), lm.transformer.forward(tinyRef.input_ids)]));
      expect(a).toEqual(b);
      for (const m of [lm, body]) m.dispose();
      for (const t of Object.values(tinyRef)) t.dispose();
    });

    it('GPT2ForSequenceClassification loads it with a fresh score head, named in one notice', async () => {
      const ref = loadSafetensors(join(dir, 'golden.safetensors'));
      const { model, notices } = noticed((onNotice) => GPT2ForSequenceClassification.fromPretrained(dir, { onNotice, config: { num_labels: 3 } }).eval());
      expect(notices).toHaveLength(1);
      expect(notices[0]).toContain('initialised from the seed, not in the checkpoint (train before use): score.weight');
      expect(model.score.weight.shape).toEqual([3, 32]);
      const [hidden, want] = await read(() => [noGrad(() => model.transformer.forward(ref.input_ids)), ref.hidden]);
      expect(relError(hidden, want)).toBeLessThan(1e-5);
      model.dispose();
      for (const t of Object.values(ref)) t.dispose();
    });
  });

  type Load = (dir: string, opts: FromPretrainedOptions) => PretrainedModel;
  describe.each([
    [
      'bert-published',
      'bert',
      BertForMaskedLM,
      ((d, o) => BertForMaskedLM.fromPretrained(d, o)) as Load,
      (raw: RawConfig) => new BertModel(BertModel.configFromJson(raw, 'config.json'), { pooler: true }),
      ((d, o) => BertForSequenceClassification.fromPretrained(d, o)) as Load,
      ['cls.seq_relationship.bias', 'cls.seq_relationship.weight'],
    ],
    [
      'roberta-published',
      'roberta',
      RobertaForMaskedLM,
      ((d, o) => RobertaForMaskedLM.fromPretrained(d, o)) as Load,
      (raw: RawConfig) => new RobertaModel(RobertaModel.configFromJson(raw, 'config.json'), { pooler: true }),
      ((d, o) => RobertaForSequenceClassification.fromPretrained(d, o)) as Load,
      [],
    ],
  ] as const)('%s', (name, prefix, MaskedLM, loadMaskedLM, newBase, loadClassifier, otherHeads) => {
    const dir = golden(name);
    const inputs = (ref: Record<string, import('@siftjs/tensor').Tensor>) => ({ attentionMask: ref.attention_mask, tokenTypeIds: ref.token_type_ids });

    it('the masked-LM model loads the pre-training checkpoint and matches PyTorch (logits, loss, gradients)', async () => {
      const ref = loadSafetensors(join(dir, 'golden.safetensors'));
      const { model, notices } = noticed((onNotice) => AutoModelForMaskedLM.fromPretrained(dir, { onNotice }).eval());
      expect(model).toBeInstanceOf(MaskedLM);
      // The pooler goes unused without a word (a masked-LM model has none); another head is named.
      expect(notices).toEqual(otherHeads.length ? [expect.stringContaining(`not used, another task's head: ${otherHeads.join(', ')}`)] : []);
      const mlm = model as BertForMaskedLM;
      await expectMatchesGolden(mlm, ref, () => mlm.forward(ref.input_ids, { ...inputs(ref), labels: ref.labels }));
      mlm.dispose();
      for (const t of Object.values(ref)) t.dispose();
    });

    it('the base model loads the encoder and the pooler: hidden states and pooled output match PyTorch', async () => {
      const ref = loadSafetensors(join(dir, 'golden.safetensors'));
      const base = newBase(require(join(dir, 'config.json'))).eval();
      const notices: string[] = [];
      base.loadPretrainedWeights(dir, { onNotice: (m) => notices.push(m) });
      expect(notices).toEqual([expect.stringMatching(/not used, another task's head: (cls|lm_head)\./)]);
      const got = await read(() => noGrad(() => base.forward(ref.input_ids, inputs(ref))));
      const want = await read(() => ({ hidden: ref.hidden, pooled: ref.pooled }));
      expect(relError(got.hidden, want.hidden)).toBeLessThan(1e-5);
      expect(relError(got.pooled!, want.pooled)).toBeLessThan(1e-5);
      base.dispose();
      for (const t of Object.values(ref)) t.dispose();
    });

    it('the classifier gets a fresh head, named with the unused pre-training heads in one notice; its encoder matches PyTorch', async () => {
      const ref = loadSafetensors(join(dir, 'golden.safetensors'));
      const { model, notices } = noticed((onNotice) => loadClassifier(dir, { onNotice, config: { num_labels: 2 } }).eval());
      expect(notices).toHaveLength(1);
      const heads = prefix === 'bert' ? ['classifier.weight', 'classifier.bias'] : ['classifier.dense.weight', 'classifier.dense.bias', 'classifier.out_proj.weight', 'classifier.out_proj.bias'];
      expect(notices[0]).toContain(`initialised from the seed, not in the checkpoint (train before use): ${heads.join(', ')}`);
      expect(notices[0]).toMatch(/not used, another task's head: (cls|lm_head)\./);
      const encoder = (model as unknown as Record<string, BertModel>)[prefix];
      const [hidden, want] = await read(() => [noGrad(() => encoder.forward(ref.input_ids, inputs(ref)).hidden), ref.hidden]);
      expect(relError(hidden, want)).toBeLessThan(1e-5);
      model.dispose();
      for (const t of Object.values(ref)) t.dispose();
    });

    it('strict: true refuses what the default allows (a missing new head, another task’s head left unused)', () => {
      expect(() => loadClassifier(dir, { strict: true })).toThrow(/missing \(classifier\./);
      if (otherHeads.length) expect(() => loadMaskedLM(dir, { strict: true })).toThrow(`unexpected (${otherHeads.join(', ')})`);
    });
  });

  it('AutoModelForCausalLM picks GPT2LMHeadModel for the original GPT-2 layout', () => {
    const model = AutoModelForCausalLM.fromPretrained(golden('gpt2-original'));
    expect(model).toBeInstanceOf(GPT2LMHeadModel);
    model.dispose();
  });
});
