import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW } from '@siftjs/nn';
import { ConfigError, GPT2ForSequenceClassification, GPT2LMHeadModel } from '@siftjs/models';
import { loadSafetensors, saveSafetensors, saveSafetensorsAsync } from '@siftjs/safetensors';
import { manualSeed, memoryStats, type Tensor, tensor } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, caps, syncOrAsync } from '../support/backends.js';
import { expectMatchesGolden } from '../support/golden.js';
import { read } from '../support/read.js';

const golden = join(__dirname, '..', 'golden', 'gpt2-tiny');
const tmp = mkdtempSync(join(tmpdir(), 'sift-gpt2-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** max |a − e| / max |e|: one relative error for the whole tensor. */
describe.each(backendsUnderTest())('GPT-2 on $name', (backend) => {
  beforeAll(() => backend.start());

  it('loads a Hugging Face-layout checkpoint and matches PyTorch logits, loss and gradients (tests/golden/gpt2.py)', async () => {
    const ref = loadSafetensors(join(golden, 'golden.safetensors'));
    const model = GPT2LMHeadModel.fromPretrained(golden).eval();
    await expectMatchesGolden(model, ref, () => model.forward(ref.input_ids, { labels: ref.input_ids }));
    model.dispose();
    for (const t of Object.values(ref)) t.dispose();
  });

  it('GPT2ForSequenceClassification reads the last non-pad token and matches PyTorch (logits, loss, gradients)', async () => {
    const dir = `${golden}-cls`;
    const ref = loadSafetensors(join(dir, 'golden.safetensors'));
    const model = GPT2ForSequenceClassification.fromPretrained(dir, { strict: true }).eval();
    await expectMatchesGolden(model, ref, () => model.forward(ref.input_ids, { labels: ref.labels }));
    model.dispose();
    for (const t of Object.values(ref)) t.dispose();
  });

  it('savePretrained writes a checkpoint that loads back to the same logits (lm_head stays tied)', async () => {
    const model = GPT2LMHeadModel.fromPretrained(golden).eval();
    const dir = join(tmp, 'saved');
    await syncOrAsync(() => model.savePretrained(dir), () => model.savePretrainedAsync(dir));
    const again = GPT2LMHeadModel.fromPretrained(dir).eval();
    expect(again.lm_head.weight).toBe(again.transformer.wte.weight);
    const [reloaded, original] = await read(() => {
      const ids = tensor([[1, 2, 3, 4]], { dtype: 'int32' });
      return [again.forward(ids).logits, model.forward(ids).logits];
    });
    expect(reloaded).toEqual(original);
    model.dispose();
    again.dispose();
  });

  it('loads a sharded checkpoint through model.safetensors.index.json', async () => {
    const dir = join(tmp, 'sharded');
    require('node:fs').mkdirSync(dir, { recursive: true });
    const all = loadSafetensors(join(golden, 'model.safetensors'));
    const names = Object.keys(all).sort();
    const half = Math.ceil(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      const shard = Object.fromEntries(part.map((n) => [n, all[n]]));
      await syncOrAsync(() => saveSafetensors(join(dir, file), shard), () => saveSafetensorsAsync(join(dir, file), shard));
      for (const n of part) weightMap[n] = file;
    }
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    require('node:fs').copyFileSync(join(golden, 'config.json'), join(dir, 'config.json'));
    const a = GPT2LMHeadModel.fromPretrained(golden).eval();
    const b = GPT2LMHeadModel.fromPretrained(dir).eval();
    const [sharded, whole] = await read(() => {
      const ids = tensor([[3, 1, 4, 1, 5]], { dtype: 'int32' });
      return [b.forward(ids).logits, a.forward(ids).logits];
    });
    expect(sharded).toEqual(whole);
    for (const t of Object.values(all)) t.dispose();
    a.dispose();
    b.dispose();
  });

  it('a config.json missing a field names the file and the field', () => {
    const dir = join(tmp, 'bad');
    rmSync(dir, { recursive: true, force: true });
    require('node:fs').mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ vocab_size: 10, n_positions: 8, n_embd: 8, n_layer: 1 }));
    expect(() => GPT2LMHeadModel.fromPretrained(dir)).toThrow(ConfigError);
    expect(() => GPT2LMHeadModel.fromPretrained(dir)).toThrow(`${join(dir, 'config.json')}: missing field 'n_head'`);
  });

  // On the CPU: 200 steps, the loss cut by 80% (0.04× here). A GPU backend on a software adapter (SwiftShader in CI)
  // takes 1–2 s a step, so there: 40 steps, cut by 40% (the CPU reaches 0.46× at 40).
  it('learns: a tiny GPT-2 cuts its loss on a tiny character corpus (200 steps: to 0.2×; 40 on a GPU backend: to 0.6×)', { timeout: 180_000 }, async () => {
    const { steps, ratio } = caps().syncReads ? { steps: 200, ratio: 0.2 } : { steps: 40, ratio: 0.6 };
    manualSeed(0);
    // A tiny corpus, one token per character (the golden model's vocabulary has 50 entries).
    const corpus = 'the quick brown fox jumps over the lazy dog. the lazy dog sleeps while the quick fox runs. ';
    const alphabet = [...new Set(corpus)].sort();
    const ids = [...corpus].map((ch) => alphabet.indexOf(ch));
    const model = GPT2LMHeadModel.fromPretrained(golden);
    const opt = new AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0 });
    const batchAt = (step: number) => {
      const rows = [0, 1, 2, 3].map((r) => {
        const start = (step * 7 + r * 23) % (ids.length - 16);
        return ids.slice(start, start + 16);
      });
      return tensor(rows, { dtype: 'int32' });
    };
    const losses: number[] = [];
    const live = memoryStats().liveTensors;
    for (let step = 0; step < steps; step++) {
      const batch = batchAt(step);
      const { logits, loss } = model.forward(batch, { labels: batch });
      loss!.backward();
      losses.push(await loss!.item());
      for (const t of [batch, logits, loss!]) t.dispose();
      opt.step();
      opt.zeroGrad();
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(ratio * mean(losses.slice(0, 10)));
    // The optimizer holds two moments per parameter; nothing else may pile up across steps.
    const moments = 2 * new Set<Tensor>(Object.values(model.stateDict())).size;
    expect(memoryStats().liveTensors - live).toBe(moments);
    model.dispose();
  });

});
