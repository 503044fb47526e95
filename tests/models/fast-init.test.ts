import '@siftjs/backend-cpu';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GPT2ForSequenceClassification, GPT2LMHeadModel, LlamaForCausalLM } from '@siftjs/models';
import { loadSafetensors } from '@siftjs/safetensors';
import { manualSeed, rand } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { BFLOAT16, decodeHalf, roundToHalf } from '../reference/half-format.js';

/*
 * fromPretrained's fast init: a model whose every parameter the checkpoint holds is built without drawing initial
 * values (they would be overwritten). Observable from outside: the random generator is where it was, and the weights
 * are the file's. A model with a new head keeps the old path: the head is initialised exactly as a plain build does.
 */

const golden = (name: string) => fileURLToPath(new URL(`../golden/${name}`, import.meta.url));

const draws = () => Array.from(rand([6]).toArraySync());

describe('fromPretrained without drawing what the checkpoint overwrites', () => {
  it.each([
    ['LLaMA', () => LlamaForCausalLM.fromPretrained(golden('llama-tiny'))],
    ['GPT-2', () => GPT2LMHeadModel.fromPretrained(golden('gpt2-tiny'))],
    ['LLaMA in bfloat16', () => LlamaForCausalLM.fromPretrained(golden('llama-tiny'), { dtype: 'bfloat16' })],
  ])('%s: nothing is drawn from the generator, and every weight is the file\'s', (_name, load) => {
    manualSeed(5);
    const expected = draws();
    manualSeed(5);
    const model = load();
    expect(draws()).toEqual(expected);
    const file = loadSafetensors(`${_name.startsWith('GPT') ? golden('gpt2-tiny') : golden('llama-tiny')}/model.safetensors`);
    for (const [name, p] of model.namedParameters()) {
      const stored = file[name] ?? file[`transformer.${name}`] ?? file[name.replace(/^transformer\./, '')];
      if (!stored) continue; // a tied weight stored under its other name
      // A float32 file read into bfloat16 weights: each value rounded once (the IEEE reference's rounding).
      const bf16 = (x: number) => {
        const r = roundToHalf(x, BFLOAT16);
        return r.nan ? NaN : decodeHalf(r.bits, BFLOAT16);
      };
      const want = Array.from(stored.toArraySync(), (x) => (p.dtype === 'bfloat16' ? bf16(x) : x));
      expect(Array.from(p.toArraySync()), name).toEqual(want);
    }
    for (const t of Object.values(file)) t.dispose();
    model.dispose();
  });

  it('a new head the checkpoint lacks is initialised exactly as a plain build initialises it', () => {
    const dir = golden('gpt2-tiny');
    manualSeed(7);
    const loaded = GPT2ForSequenceClassification.fromPretrained(dir, { config: { num_labels: 3 }, onNotice: () => {} });
    manualSeed(7);
    const cfg = GPT2ForSequenceClassification.configFromJson({ ...JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')), num_labels: 3 }, 'config.json');
    const plain = new GPT2ForSequenceClassification(cfg);
    plain.loadPretrainedWeights(dir, { onNotice: () => {} });
    const head = (m: GPT2ForSequenceClassification) => Array.from([...m.namedParameters()].find(([n]) => n.startsWith('score'))![1].toArraySync());
    expect(head(loaded)).toEqual(head(plain));
    loaded.dispose();
    plain.dispose();
  });
});
