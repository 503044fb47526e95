import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutoModel,
  AutoModelForCausalLM,
  ConfigError,
  LlamaForCausalLM,
  LlamaModel,
  MistralForCausalLM,
  MistralModel,
  Qwen2ForCausalLM,
  Qwen2Model,
} from '@siftjs/models';
import { loadSafetensors, SafetensorsFile, saveSafetensorsAsync } from '@siftjs/safetensors';
import { noGrad, tensor } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectMatchesGolden, relError } from '../support/golden.js';
import { read } from '../support/read.js';

/**
 * The LLaMA family as published, each checkpoint written by tests/golden/llama_family.py in the family's own key
 * layout, dtype (float16 / bfloat16) and config.json fields, against an independent PyTorch reference.
 */
const golden = (name: string) => join(__dirname, '..', 'golden', name);
const tmp = mkdtempSync(join(tmpdir(), 'sift-llama-family-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const families = [
  ['llama2-tiny', 'Llama 2 (float16, rotary_emb.inv_freq buffers stored)', LlamaForCausalLM, LlamaModel],
  ['llama3-tiny', 'Llama 3.2 (rope_scaling llama3, head_dim 16 ≠ 32/4, tied, bfloat16)', LlamaForCausalLM, LlamaModel],
  ['qwen2-tiny', 'Qwen2.5 (q/k/v biases, no o_proj bias, tied, rope_theta 1e6, sliding window off)', Qwen2ForCausalLM, Qwen2Model],
  ['qwen2-tiny-window', 'Qwen2 with use_sliding_window (layer 1 windowed, layer 0 full)', Qwen2ForCausalLM, Qwen2Model],
  ['mistral-tiny', 'Mistral (sliding window 4 over 12 tokens)', MistralForCausalLM, MistralModel],
  ['smollm2-tiny', 'SmolLM2 (llama, 3 heads over 1 key/value head, tied, bfloat16)', LlamaForCausalLM, LlamaModel],
] as const;

/** A copy of a checkpoint as a base model saves it: the decoder's names without `model.`, no lm_head. */
async function asBaseCheckpoint(name: string): Promise<string> {
  const dir = join(tmp, `${name}-base`);
  mkdirSync(dir, { recursive: true });
  const all = loadSafetensors(join(golden(name), 'model.safetensors'));
  const bare = Object.fromEntries(Object.entries(all).map(([k, t]) => [k.replace(/^model\./, ''), t]));
  await saveSafetensorsAsync(join(dir, 'model.safetensors'), bare);
  copyFileSync(join(golden(name), 'config.json'), join(dir, 'config.json'));
  for (const t of Object.values(all)) t.dispose();
  return dir;
}

describe.each(backendsUnderTest())('the LLaMA family on $name', (backend) => {
  beforeAll(() => backend.start());

  it.each(families)('%s: %s matches PyTorch (logits, loss, gradients; tests/golden/llama_family.py)', async (name, _, Class) => {
    const ref = loadSafetensors(join(golden(name), 'golden.safetensors'));
    const model = AutoModelForCausalLM.fromPretrained(golden(name));
    expect(model).toBeInstanceOf(Class);
    const lm = model as LlamaForCausalLM;
    await expectMatchesGolden(lm, ref, () => lm.forward(ref.input_ids, { labels: ref.input_ids }));
    lm.dispose();
    for (const t of Object.values(ref)) t.dispose();
  });

  it.each(families)('%s: the base model loads the decoder of the task checkpoint (its hidden states match)', async (name, _, __, Base) => {
    const ref = loadSafetensors(join(golden(name), 'golden.safetensors'));
    const notices: string[] = [];
    const base = AutoModel.fromPretrained(golden(name), { onNotice: (m) => notices.push(m) }) as LlamaModel;
    expect(base).toBeInstanceOf(Base);
    const file = SafetensorsFile.open(join(golden(name), 'model.safetensors'));
    const stored = file.keys();
    file.close();
    // An untied lm_head is the task's head: not used by the base model, and said so.
    expect(notices).toEqual(stored.includes('lm_head.weight') ? [expect.stringContaining("not used, another task's head: lm_head.weight")] : []);
    const [hidden, want] = await read(() => [noGrad(() => base.forward(ref.input_ids)), ref.hidden]);
    expect(relError(hidden, want)).toBeLessThan(1e-5);
    base.dispose();
    for (const t of Object.values(ref)) t.dispose();
  });

  it.each(['llama3-tiny', 'qwen2-tiny', 'smollm2-tiny'])('%s: the causal LM loads a base checkpoint (bare names, head tied to the embedding)', async (name) => {
    const ref = loadSafetensors(join(golden(name), 'golden.safetensors'));
    const model = AutoModelForCausalLM.fromPretrained(await asBaseCheckpoint(name), { strict: true }) as LlamaForCausalLM;
    const [logits, want] = await read(() => [noGrad(() => model.forward(ref.input_ids).logits), ref.logits]);
    expect(relError(logits, want)).toBeLessThan(1e-5);
    model.dispose();
    for (const t of Object.values(ref)) t.dispose();
  });

  it('Mistral decoding one token at a time through the KV cache gives the logits of the whole sequence, past the window', async () => {
    const ref = loadSafetensors(join(golden('mistral-tiny'), 'golden.safetensors'));
    const model = MistralForCausalLM.fromPretrained(golden('mistral-tiny')).eval();
    const ids = (await ref.input_ids.toArray()) as Int32Array;
    const [b, t] = ref.input_ids.shape;
    const cache = model.newCache();
    const steps: number[][] = [];
    for (let p = 0; p < t; p++) {
      const column = tensor(Array.from({ length: b }, (_, r) => [ids[r * t + p]]), { dtype: 'int32' });
      const [step] = await read(() => [noGrad(() => model.forward(column, { cache }).logits)]);
      column.dispose();
      steps.push(step);
    }
    cache.dispose();
    // Reorder [position][batch · vocab] into the golden [batch, position, vocab].
    const v = ref.logits.shape[2];
    const cached = Array.from({ length: b * t * v }, (_, i) => {
      const r = Math.floor(i / (t * v));
      const p = Math.floor(i / v) % t;
      return steps[p][r * v + (i % v)];
    });
    const [want] = await read(() => [ref.logits]);
    expect(relError(cached, want)).toBeLessThan(1e-5);
    model.dispose();
    for (const x of Object.values(ref)) x.dispose();
  });
});

describe('config.json of the LLaMA family', () => {
  it('a class loads only its own model_type: a Mistral checkpoint is never read as LLaMA (and so never loses its window)', () => {
    expect(() => LlamaForCausalLM.fromPretrained(golden('mistral-tiny'))).toThrow(ConfigError);
    expect(() => LlamaForCausalLM.fromPretrained(golden('mistral-tiny'))).toThrow(/model_type "mistral" is not 'llama'/);
    expect(() => MistralForCausalLM.fromPretrained(golden('qwen2-tiny'))).toThrow(/model_type "qwen2" is not 'mistral'/);
  });

  it.each([
    [{ rope_scaling: { rope_type: 'yarn', factor: 4.0 } }, `rope_scaling of type "yarn" is not supported`],
    [{ rope_scaling: { type: 'dynamic', factor: 2.0 } }, `rope_scaling of type "dynamic" is not supported`],
    [{ rope_scaling: { rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0 } }, "missing field 'original_max_position_embeddings'"],
    [{ mlp_bias: true }, 'mlp_bias true is not supported'],
    [{ rope_interleaved: true }, 'rope_interleaved true is not supported'],
    [{ partial_rotary_factor: 0.5 }, 'partial_rotary_factor 0.5 is not supported'],
    [{ hidden_act: 'gelu' }, "hidden_act 'gelu' is not supported"],
    [{ head_dim: 7 }, 'head_dim 7'],
  ])('a config.json the architecture here would get wrong is refused, naming the field: %j', (patch, message) => {
    const dir = join(tmp, `config-${JSON.stringify(patch).replace(/\W+/g, '-')}`);
    mkdirSync(dir, { recursive: true });
    const cfg = require(join(golden('llama3-tiny'), 'config.json'));
    require('node:fs').writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, ...patch }));
    copyFileSync(join(golden('llama3-tiny'), 'model.safetensors'), join(dir, 'model.safetensors'));
    expect(() => LlamaForCausalLM.fromPretrained(dir)).toThrow(ConfigError);
    expect(() => LlamaForCausalLM.fromPretrained(dir)).toThrow(message);
  });
});
