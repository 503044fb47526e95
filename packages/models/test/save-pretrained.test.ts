import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors } from '@siftjs/safetensors';
import { manualSeed, setBackend } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAsyncOnlyCpu } from '../../../tests/support/async-only-backend.js';
import { GPT2ForSequenceClassification, gpt2Config } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sift-save-pretrained-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(registerAsyncOnlyCpu);

describe('savePretrainedAsync', () => {
  const cfg = gpt2Config({ vocab_size: 40, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2, num_labels: 3 }, 'test');

  it('writes the files savePretrained writes, from an async-only backend too; savePretrained there says which form to use', async () => {
    manualSeed(3);
    const model = new GPT2ForSequenceClassification(cfg);
    const [sync, async_, remote] = [join(dir, 'm-sync'), join(dir, 'm-async'), join(dir, 'm-remote')];
    model.savePretrained(sync);
    await model.savePretrainedAsync(async_);
    await setBackend('cpu-async');
    manualSeed(3);
    const there = new GPT2ForSequenceClassification(cfg);
    await setBackend('cpu');
    await there.savePretrainedAsync(remote);
    expect(() => there.savePretrained(join(dir, 'm-refused'))).toThrow(/reads asynchronously; .*savePretrainedAsync/);
    for (const out of [async_, remote]) {
      for (const f of ['config.json', 'model.safetensors']) expect(readFileSync(join(out, f)).equals(readFileSync(join(sync, f))), `${out}/${f}`).toBe(true);
    }
    // A tied tensor is stored once, as savePretrained stores it.
    expect(Object.keys(loadSafetensors(join(remote, 'model.safetensors'))).sort()).toEqual(Object.keys(loadSafetensors(join(sync, 'model.safetensors'))).sort());
    model.dispose();
    there.dispose();
  });
});
