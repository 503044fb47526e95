import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, GPT2ForSequenceClassification, gpt2Config } from '@siftjs/models';
import { checkShardContents, loadSafetensors, parseShardIndex, SafetensorsError, SafetensorsFile, saveSafetensors } from '@siftjs/safetensors';
import { manualSeed, type Tensor } from '@siftjs/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import '@siftjs/backend-cpu';

/**
 * A checkpoint loaded tensor by tensor from Blobs (a folder a user picks in a browser: one model.safetensors, or the
 * shards of an index) gives the model the directory load gives it, by the same rules, reading nothing of a
 * checkpoint that does not fit.
 */
const model = join(__dirname, '..', '..', 'models', 'sift-gpt2-mini');
const tmp = mkdtempSync(join(tmpdir(), 'sift-load-async-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));

function fresh(overrides: Record<string, unknown> = {}): GPT2ForSequenceClassification {
  manualSeed(0);
  return new GPT2ForSequenceClassification(gpt2Config({ ...config, ...overrides }, 'config.json'));
}

async function values(m: GPT2ForSequenceClassification): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(m.stateDict())) out[k] = Array.from(await t.toArray());
  return out;
}

const blobFile = (name: string, path: string) => SafetensorsFile.fromBlob(name, new Blob([readFileSync(path)]));

/** model.safetensors split in two shards (by name order) with their index, as Hugging Face writes them. */
function shard(into: string): { index: Uint8Array; shards: Record<string, string> } {
  const all = loadSafetensors(join(model, 'model.safetensors'));
  const names = Object.keys(all).sort();
  const half = Math.ceil(names.length / 2);
  const parts: Record<string, string[]> = { 'model-00001-of-00002.safetensors': names.slice(0, half), 'model-00002-of-00002.safetensors': names.slice(half) };
  const weightMap: Record<string, string> = {};
  const shards: Record<string, string> = {};
  for (const [file, keys] of Object.entries(parts)) {
    const path = join(into, file);
    saveSafetensors(path, Object.fromEntries(keys.map((k) => [k, all[k]])) as Record<string, Tensor>, { metadata: { format: 'pt' } });
    shards[file] = path;
    for (const k of keys) weightMap[k] = file;
  }
  for (const t of Object.values(all)) t.dispose();
  return { index: new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap })), shards };
}

describe('loading weights from Blobs, tensor by tensor', () => {
  it('one model.safetensors or its two shards give the model the directory load gives it', async () => {
    const direct = fresh();
    direct.loadPretrainedWeights(model, { onNotice: () => {} });
    const expected = await values(direct);
    direct.dispose();

    const single = fresh();
    const notices: string[] = [];
    await single.loadPretrainedWeightsFromAsync([await blobFile('picked/model.safetensors', join(model, 'model.safetensors'))], 'picked', { onNotice: (m) => notices.push(m) });
    expect(await values(single)).toEqual(expected);
    single.dispose();
    // The new head is named, as the directory load names it.
    expect(notices).toEqual([expect.stringMatching(/^picked → GPT2ForSequenceClassification: initialised from the seed, not in the checkpoint \(train before use\): score\.weight/)]);

    const { index, shards } = shard(tmp);
    const parsed = parseShardIndex('picked/model.safetensors.index.json', index);
    const files = await Promise.all(Object.entries(shards).map(([name, path]) => blobFile(name, path)));
    checkShardContents('picked/model.safetensors.index.json', parsed.weightMap, (s) => files.find((f) => f.path === s)?.keys() ?? null);
    const sharded = fresh();
    await sharded.loadPretrainedWeightsFromAsync(files, 'picked', { onNotice: () => {} });
    expect(await values(sharded)).toEqual(expected);
    sharded.dispose();
  });

  it('a tensor held by two files, or a shard missing what the index gives it, is named', async () => {
    const file = join(model, 'model.safetensors');
    const m = fresh();
    await expect(m.loadPretrainedWeightsFromAsync([await blobFile('a.safetensors', file), await blobFile('b.safetensors', file)], 'picked')).rejects.toThrow(
      /^b\.safetensors: holds tensor '.+', which a\.safetensors holds too$/,
    );
    m.dispose();
    const { index } = shard(tmp);
    const parsed = parseShardIndex('i.json', index);
    expect(() => checkShardContents('i.json', parsed.weightMap, (s) => (s.startsWith('model-00001') ? [] : null))).toThrow(SafetensorsError);
  });

  it('a checkpoint that does not fit is refused before any tensor is read', async () => {
    const bytes = readFileSync(join(model, 'model.safetensors'));
    const whole = new Blob([bytes]);
    let read = 0;
    const blob = Object.create(whole) as Blob;
    Object.defineProperty(blob, 'size', { value: whole.size });
    blob.slice = (s?: number, e?: number) => {
      read = Math.max(read, e ?? whole.size);
      return whole.slice(s, e);
    };
    const file = await SafetensorsFile.fromBlob('picked/model.safetensors', blob);
    const headerEnd = read;
    const wider = fresh({ n_embd: 256 });
    await expect(wider.loadPretrainedWeightsFromAsync([file], 'picked', { onNotice: () => {} })).rejects.toThrow(CheckpointError);
    expect(read).toBe(headerEnd);
    wider.dispose();
  });
});
