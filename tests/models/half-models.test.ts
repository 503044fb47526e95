import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BertForSequenceClassification, GPT2LMHeadModel, LlamaForCausalLM, type PretrainedModel, RobertaForSequenceClassification } from '@siftjs/models';
import { loadSafetensors, SafetensorsFile } from '@siftjs/safetensors';
import { DTypeError, type HalfDType, noGrad, type Tensor } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, syncOrAsync } from '../support/backends.js';
import { relError } from '../support/golden.js';
import { roundHalf } from '../support/half.js';
import { read } from '../support/read.js';

/**
 * Models whose weights are float16 / bfloat16: a bf16 GPT-2 checkpoint written by PyTorch loaded without widening and
 * matching the logits PyTorch computes with those weights widened to float32 (tests/golden/gpt2_bf16.py), and
 * `model.to(dtype)` on GPT-2, BERT, RoBERTa and LLaMA (torch's module.to: floating tensors cast, tied ones tied),
 * whose forward is float32 arithmetic on the widened weights.
 */
const goldenDir = (name: string) => join(__dirname, '..', 'golden', name);
const tmp = mkdtempSync(join(tmpdir(), 'sift-half-models-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Case {
  name: string;
  dir: string;
  load: (dir: string, opts?: { dtype?: HalfDType }) => PretrainedModel;
  run: (m: PretrainedModel, ref: Record<string, Tensor>) => Tensor;
}

type Fwd = { forward(ids: Tensor, o: Record<string, Tensor | undefined>): { logits: Tensor } };
const logits = (m: PretrainedModel, ref: Record<string, Tensor>) =>
  (m as unknown as Fwd).forward(ref.input_ids, { attentionMask: ref.attention_mask, tokenTypeIds: ref.token_type_ids }).logits;

const CASES: Case[] = [
  { name: 'GPT-2', dir: goldenDir('gpt2-tiny'), load: (d, o) => GPT2LMHeadModel.fromPretrained(d, o).eval(), run: logits },
  { name: 'BERT', dir: goldenDir('bert-tiny-cls'), load: (d, o) => BertForSequenceClassification.fromPretrained(d, o).eval(), run: logits },
  { name: 'RoBERTa', dir: goldenDir('roberta-tiny-cls'), load: (d, o) => RobertaForSequenceClassification.fromPretrained(d, o).eval(), run: logits },
  { name: 'LLaMA', dir: goldenDir('llama-tiny'), load: (d, o) => LlamaForCausalLM.fromPretrained(d, o).eval(), run: logits },
];

describe.each(backendsUnderTest())('half-precision models on $name', (backend) => {
  beforeAll(() => backend.start());

  it('a bf16 GPT-2 checkpoint written by PyTorch loads without widening and gives its float32 logits (tests/golden/gpt2_bf16.py)', async () => {
    const dir = goldenDir('gpt2-tiny-bf16');
    const ref = loadSafetensors(join(dir, 'golden.safetensors'));
    // Where the backend stores no half tensors yet, the same checkpoint loads widened to float32 (the same values).
    const model = GPT2LMHeadModel.fromPretrained(dir, backend.half ? { dtype: 'bfloat16' } : {}).eval();
    if (backend.half) {
      const file = SafetensorsFile.open(join(dir, 'model.safetensors'));
      try {
        const sd = model.stateDict();
        for (const t of Object.values(sd)) expect(t.dtype).toBe('bfloat16');
        for (const name of file.keys()) {
          expect(Buffer.from((await sd[name].toBits()).buffer).equals(Buffer.from(file.readBytes(name))), name).toBe(true);
        }
      } finally {
        file.close();
      }
      expect(model.lm_head.weight).toBe(model.transformer.wte.weight);
    }
    const got = await read(() => {
      const out = noGrad(() => model.forward(ref.input_ids, { labels: ref.input_ids }));
      return { logits: out.logits, loss: out.loss! };
    });
    const want = await read(() => ({ logits: ref.logits, loss: ref.loss }));
    expect(relError(got.logits, want.logits), 'logits').toBeLessThan(1e-5);
    expect(Math.abs(got.loss[0] - want.loss[0]) / want.loss[0], 'loss').toBeLessThan(1e-5);
    model.dispose();
    for (const t of Object.values(ref)) t.dispose();
  });

  it.runIf(backend.half)('a bf16 model saves as BF16, the bytes it loaded', async () => {
    const dir = goldenDir('gpt2-tiny-bf16');
    const model = GPT2LMHeadModel.fromPretrained(dir, { dtype: 'bfloat16' });
    const out = join(tmp, `${backend.name}-gpt2-bf16`);
    await syncOrAsync(() => model.savePretrained(out), () => model.savePretrainedAsync(out));
    const [a, b] = [SafetensorsFile.open(join(dir, 'model.safetensors')), SafetensorsFile.open(join(out, 'model.safetensors'))];
    try {
      for (const key of a.keys()) {
        expect(b.info(key).dtype, key).toBe('BF16');
        expect(Buffer.from(b.readBytes(key)).equals(Buffer.from(a.readBytes(key))), key).toBe(true);
      }
    } finally {
      a.close();
      b.close();
      model.dispose();
    }
  });

  describe.each(CASES)('$name', (c) => {
    it.runIf(backend.half).each(['bfloat16', 'float16'] as const)(
      'model.to(%s) casts every floating parameter to its nearest value, keeps ties, halves the bytes, and computes in float32 on the widened weights',
      async (dtype) => {
        const ref = loadSafetensors(join(c.dir, 'golden.safetensors'));
        const model = c.load(c.dir);
        const before = await read(() => model.stateDict());
        const tiedBefore = tiedPairs(model);
        const bytes32 = model.parameters().reduce((n, p) => n + p.size * 4, 0);
        expect(model.to(dtype)).toBe(model);
        const sd = model.stateDict();
        expect(tiedPairs(model)).toEqual(tiedBefore);
        expect(model.parameters().reduce((n, p) => n + p.size * (p.dtype === dtype ? 2 : 4), 0)).toBe(bytes32 / 2);
        for (const [name, t] of Object.entries(sd)) {
          expect(t.dtype, name).toBe(dtype);
          const got = await t.toArray();
          const want = before[name].map((v) => roundHalf(v, dtype));
          expect(Array.from(got), name).toEqual(want);
        }
        // the same weights, rounded, in a float32 model: the half model's forward is float32 arithmetic on them
        const rounded = c.load(c.dir);
        noGrad(() => {
          for (const [name, t] of Object.entries(rounded.stateDict())) t.copy_(sd[name]);
        });
        const [half, full] = await read(() => noGrad(() => [c.run(model, ref), c.run(rounded, ref)]));
        expect(relError(half, full)).toBeLessThan(1e-6);
        model.dispose();
        rounded.dispose();
        for (const t of Object.values(ref)) t.dispose();
      },
    );

    it.runIf(backend.half)('fromPretrained({ dtype: bfloat16 }) builds the model in bfloat16 and reads the float32 checkpoint into it, rounded once', async () => {
      const ref = loadSafetensors(join(c.dir, 'golden.safetensors'));
      const model = c.load(c.dir, { dtype: 'bfloat16' });
      const cast = c.load(c.dir).to('bfloat16');
      const [a, b] = await read(() => [model.stateDict(), cast.stateDict()]);
      for (const name of Object.keys(a)) expect(a[name], name).toEqual(b[name]);
      for (const t of Object.values(model.stateDict())) expect(t.dtype).toBe('bfloat16');
      // and its logits are the float32 model's to bf16's precision (weights rounded by 2^-9 relative)
      const [got, want] = await read(() => noGrad(() => [c.run(model, ref), c.run(cast, ref)]));
      expect(got).toEqual(want);
      model.dispose();
      cast.dispose();
      for (const t of Object.values(ref)) t.dispose();
    });
  });

  it('model.to refuses a dtype that is not a float', () => {
    const model = GPT2LMHeadModel.fromPretrained(goldenDir('gpt2-tiny'));
    expect(() => model.to('int32')).toThrow(DTypeError);
    expect(() => model.to('int32')).toThrow(/'int32' is not a float dtype/);
    model.dispose();
  });
});

/** Which state-dict names share a tensor, as pairs of names. */
function tiedPairs(model: PretrainedModel): string[][] {
  const sd = Object.entries(model.stateDict());
  const pairs: string[][] = [];
  sd.forEach(([a, t], i) => sd.slice(i + 1).forEach(([b, u]) => t === u && pairs.push([a, b])));
  return pairs;
}
