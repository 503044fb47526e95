import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW } from '@siftjs/nn';
import {
  AutoModelForCausalLM,
  BertForMaskedLM,
  BertForSequenceClassification,
  GPT2ForSequenceClassification,
  GPT2LMHeadModel,
  LlamaForCausalLM,
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
} from '@siftjs/models';
import { loadSafetensors } from '@siftjs/safetensors';
import { noGrad, type Tensor } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, syncOrAsync } from '../support/backends.js';
import { values } from '../support/read.js';

const golden = (name: string) => join(__dirname, '..', 'golden', name);
const tmp = mkdtempSync(join(tmpdir(), 'sift-zoo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Out = { logits: Tensor; loss: Tensor | null };
interface Trainable {
  parameters(): Tensor[];
  forward(ids: Tensor, opts: Record<string, Tensor | undefined>): Out;
  savePretrained(dir: string): void;
  savePretrainedAsync(dir: string): Promise<void>;
  zeroGrad(): void;
  dispose(): void;
}

const zoo: [string, (dir: string) => Trainable][] = [
  ['gpt2-tiny', (d) => GPT2LMHeadModel.fromPretrained(d) as unknown as Trainable],
  ['gpt2-tiny-cls', (d) => GPT2ForSequenceClassification.fromPretrained(d, { strict: true }) as unknown as Trainable],
  ['bert-tiny-cls', (d) => BertForSequenceClassification.fromPretrained(d, { strict: true }) as unknown as Trainable],
  ['bert-tiny-mlm', (d) => BertForMaskedLM.fromPretrained(d, { strict: true }) as unknown as Trainable],
  ['roberta-tiny-cls', (d) => RobertaForSequenceClassification.fromPretrained(d, { strict: true }) as unknown as Trainable],
  ['roberta-tiny-mlm', (d) => RobertaForMaskedLM.fromPretrained(d, { strict: true }) as unknown as Trainable],
  ['llama-tiny', (d) => LlamaForCausalLM.fromPretrained(d) as unknown as Trainable],
  // The rest of the LLaMA family: what savePretrained writes (its config.json fields included) loads back the same.
  ['llama3-tiny', (d) => AutoModelForCausalLM.fromPretrained(d) as unknown as Trainable],
  ['qwen2-tiny-window', (d) => AutoModelForCausalLM.fromPretrained(d) as unknown as Trainable],
  ['mistral-tiny', (d) => AutoModelForCausalLM.fromPretrained(d) as unknown as Trainable],
];

describe.each(backendsUnderTest())('the model zoo on $name', (backend) => {
  beforeAll(() => backend.start());

  it.each(zoo)('%s loads, trains (loss falls over 10 AdamW steps), saves and loads back to the same logits', async (name, load) => {
    const ref = loadSafetensors(join(golden(name), 'golden.safetensors'));
    const inputs = {
      labels: ref.labels ?? ref.input_ids,
      attentionMask: ref.attention_mask,
      tokenTypeIds: ref.token_type_ids,
    };
    const model = load(golden(name));
    const opt = new AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0 });
    const losses: number[] = [];
    for (let step = 0; step < 10; step++) {
      const { logits, loss } = model.forward(ref.input_ids, inputs);
      loss!.backward();
      losses.push(await loss!.item());
      logits.dispose();
      loss!.dispose();
      opt.step();
      opt.zeroGrad();
    }
    expect(losses[9], `losses ${losses.map((l) => l.toFixed(3)).join(' ')}`).toBeLessThan(0.8 * losses[0]);
    const dir = join(tmp, name);
    await syncOrAsync(() => model.savePretrained(dir), () => model.savePretrainedAsync(dir));
    const again = load(dir);
    const a = noGrad(() => model.forward(ref.input_ids, inputs).logits);
    const b = noGrad(() => again.forward(ref.input_ids, inputs).logits);
    expect(await values(b)).toEqual(await values(a));
    for (const t of [a, b, ...Object.values(ref)]) t.dispose();
    model.dispose();
    again.dispose();
  });
});
