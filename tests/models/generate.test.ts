import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { generate, GPT2LMHeadModel, KVCache, LlamaForCausalLM, pickToken } from '@siftjs/models';
import { noGrad, tensor } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { expectNoLeaks } from '../support/memory.js';
import { read } from '../support/read.js';

const golden = join(__dirname, '..', 'golden', 'gpt2-tiny');

describe('token choice', () => {
  test.prop([fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 20 }), fc.double({ min: 0, max: 0.999, noNaN: true })])(
    'greedy, top-k = 1 and a tiny top-p all pick the most likely token',
    (logits, u) => {
      const best = logits.indexOf(Math.max(...logits));
      expect(pickToken(logits, u, {})).toBe(best);
      expect(pickToken(logits, u, { temperature: 1, topK: 1 })).toBe(best);
      expect(pickToken(logits, u, { temperature: 0.7, topP: 1e-9 })).toBe(best);
    },
  );

  test.prop([fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 2, maxLength: 20 }), fc.double({ min: 0, max: 0.999, noNaN: true }), fc.integer({ min: 1, max: 5 })])(
    'top-k sampling only returns one of the k most likely tokens',
    (logits, u, k) => {
      const ranked = logits.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
      expect(ranked.slice(0, k)).toContain(pickToken(logits, u, { temperature: 1, topK: k }));
    },
  );
});

describe.each(backendsUnderTest())('generation on $name', (backend) => {
  let model: GPT2LMHeadModel;
  beforeAll(async () => {
    await backend.start();
    model = GPT2LMHeadModel.fromPretrained(golden).eval();
  });
  afterAll(() => model.dispose());

  it('the KV cache gives the same logits as running the whole sequence', async () => {
    const ids = [5, 9, 2, 7, 7, 1];
    const { steps, full } = await read(() => {
      const whole = noGrad(() => model.forward(tensor([ids], { dtype: 'int32' })).logits);
      const cache = new KVCache(model.config.n_layer);
      noGrad(() => model.forward(tensor([ids.slice(0, 3)], { dtype: 'int32' }), { cache }));
      const cached = [];
      for (let i = 3; i < ids.length; i++) cached.push(noGrad(() => model.forward(tensor([[ids[i]]], { dtype: 'int32' }), { cache }).logits));
      expect(cache.length).toBe(ids.length);
      cache.dispose();
      return { steps: cached, full: ids.slice(3).map((_, j) => whole.select(1, 3 + j)) };
    });
    steps.forEach((step, j) => expectClose(step, full[j], 1e-5, 1e-5, `position ${3 + j}`));
  });

  it('greedy generation with the cache equals generation without it, and leaves nothing behind', async () => {
    const prompt = [3, 14, 15];
    const cached = await expectNoLeaks(() => generate(model, prompt, { maxNewTokens: 8 }));
    const uncached = await generate(model, prompt, { maxNewTokens: 8, useCache: false });
    expect(cached).toEqual(uncached);
    expect(cached.length).toBe(11);
    expect(cached.slice(0, 3)).toEqual(prompt);
  });

  it('sampling is reproducible with a seed and stops at the end-of-sequence token', async () => {
    const opts = { maxNewTokens: 10, temperature: 0.9, topK: 10, topP: 0.95, seed: 123 };
    const a = await generate(model, [1, 2], opts);
    const b = await generate(model, [1, 2], opts);
    expect(a).toEqual(b);
    const stopped = await generate(model, [1, 2], { ...opts, eosId: a[2] });
    expect(stopped).toEqual(a.slice(0, 3));
  });

  it('LLaMA generates with its KV cache (rotary positions offset by the cache) exactly as without it', async () => {
    const llama = LlamaForCausalLM.fromPretrained(join(__dirname, '..', 'golden', 'llama-tiny'));
    const prompt = [4, 8, 15];
    const cached = await expectNoLeaks(() => generate(llama, prompt, { maxNewTokens: 6 }));
    expect(cached).toEqual(await generate(llama, prompt, { maxNewTokens: 6, useCache: false }));
    llama.dispose();
  });
});
