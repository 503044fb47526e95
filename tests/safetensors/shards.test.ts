import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsError, saveSafetensors } from '@siftjs/safetensors';
import { afterAll, describe, expect, it } from 'vitest';
// Not exported from @siftjs/safetensors yet: the checkpoint loader (weight-map.ts weightMap) is to call it.
import { readShardIndex } from '../../packages/safetensors/src/shard-index.js';

/*
 * model.safetensors.index.json as Hugging Face writes it (transformers' save_pretrained with max_shard_size:
 * {"metadata": {"total_size": N}, "weight_map": {name: shard file}}, the shards beside it), and each way it can be
 * wrong: the same rules as a safetensors header where they apply, and shards that hold exactly what it says.
 */

const root = mkdtempSync(join(tmpdir(), 'sift-st-shards-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const host = (v: number) => ({ dtype: 'float32' as const, shape: [1], data: Float32Array.of(v) });

/** A folder with two shards (a, b in the first; c in the second) and an index whose text is `index`. */
function checkpoint(index: string | ((dir: string) => string)): { dir: string; path: string } {
  const dir = join(root, `ckpt-${n++}`);
  mkdirSync(dir);
  saveSafetensors(join(dir, 'model-00001-of-00002.safetensors'), { a: host(1), b: host(2) });
  saveSafetensors(join(dir, 'model-00002-of-00002.safetensors'), { c: host(3) });
  const path = join(dir, 'model.safetensors.index.json');
  writeFileSync(path, typeof index === 'string' ? index : index(dir));
  return { dir, path };
}

const good = { metadata: { total_size: 12 }, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' } };
const withMap = (weight_map: Record<string, string>) => JSON.stringify({ metadata: { total_size: 12 }, weight_map });

function rejects(path: string, file: string, defect: RegExp): void {
  let error: unknown;
  try {
    readShardIndex(path);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SafetensorsError);
  expect((error as Error).message.startsWith(`${file}: `), (error as Error).message).toBe(true);
  expect((error as Error).message).not.toContain('\n');
  expect((error as Error).message).toMatch(defect);
}

describe('the sharded index reader', () => {
  it('reads a valid index: each tensor to its shard in the same folder, metadata as written', () => {
    const { dir, path } = checkpoint(`${JSON.stringify(good, null, 2)}\n`);
    const index = readShardIndex(path);
    expect([...index.weightMap]).toEqual([
      ['a', join(dir, 'model-00001-of-00002.safetensors')],
      ['b', join(dir, 'model-00001-of-00002.safetensors')],
      ['c', join(dir, 'model-00002-of-00002.safetensors')],
    ]);
    expect(index.metadata).toEqual({ total_size: 12 });
  });

  it('a tensor listed twice in weight_map (JSON.parse would keep the second silently)', () => {
    const { path } = checkpoint('{"weight_map":{"a":"model-00001-of-00002.safetensors","a":"model-00002-of-00002.safetensors"}}');
    rejects(path, path, /key 'a' appears twice in weight_map \(a tensor listed twice\)/);
  });

  it('invalid UTF-8, invalid JSON, a byte-order mark, not an object', () => {
    const bad = checkpoint('');
    writeFileSync(bad.path, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
    rejects(bad.path, bad.path, /not valid UTF-8/);
    const json = checkpoint('{"weight_map": {"a": "x",}}');
    rejects(json.path, json.path, /invalid JSON \(expected a string key, found "\}"/);
    const bom = checkpoint(`\ufeff${JSON.stringify(good)}`);
    rejects(bom.path, bom.path, /begins with a byte-order mark/);
    const arr = checkpoint('[]');
    rejects(arr.path, arr.path, /is an array, not a JSON object/);
  });

  it('weight_map missing, not an object, empty, or with a non-string shard', () => {
    for (const [text, defect] of [
      ['{"metadata":{}}', /has no 'weight_map'/],
      ['{"weight_map":["a"]}', /'weight_map' is an array, not an object of shard file names/],
      ['{"weight_map":{}}', /'weight_map' lists no tensors/],
      ['{"weight_map":{"a":1}}', /'weight_map' gives tensor 'a' a number, not a shard file name/],
      ['{"metadata":{"total_size":"12"},"weight_map":{"a":"x.safetensors"}}', /'metadata.total_size' is not a non-negative integer/],
    ] as const) {
      const { path } = checkpoint(text);
      rejects(path, path, defect);
    }
  });

  it('a shard that is not a plain file name in the index’s folder (a path out of it)', () => {
    for (const shard of ['../model-00001-of-00002.safetensors', '/etc/passwd', 'sub/x.safetensors', '..', '']) {
      const { path } = checkpoint(withMap({ a: shard }));
      rejects(path, path, /is not a file name in the index's folder/);
    }
  });

  it('shards that do not hold what the index says: missing, a tensor absent, a tensor not listed or listed elsewhere', () => {
    const missing = checkpoint(withMap({ ...good.weight_map, c: 'model-00003-of-00003.safetensors' }));
    const third = join(missing.dir, 'model-00003-of-00003.safetensors');
    rejects(missing.path, third, new RegExp(`not found \\(${missing.path.replace(/[.]/g, '\\.')} lists it as a shard\\)`));
    const absent = checkpoint(withMap({ ...good.weight_map, d: 'model-00002-of-00002.safetensors' }));
    rejects(absent.path, join(absent.dir, 'model-00002-of-00002.safetensors'), /has no tensor 'd', which .* puts in it/);
    const { b: _, ...withoutB } = good.weight_map;
    const unlisted = checkpoint(withMap(withoutB));
    rejects(unlisted.path, join(unlisted.dir, 'model-00001-of-00002.safetensors'), /holds tensor 'b', which .* does not list/);
    const elsewhere = checkpoint((dir) => {
      saveSafetensors(join(dir, 'model-00002-of-00002.safetensors'), { b: host(2), c: host(3) });
      return JSON.stringify(good);
    });
    rejects(elsewhere.path, join(elsewhere.dir, 'model-00002-of-00002.safetensors'), /holds tensor 'b', which .* puts in model-00001-of-00002\.safetensors/);
  });

  it('a shard that is not a valid safetensors file is named with its own defect', () => {
    const { dir, path } = checkpoint(JSON.stringify(good));
    const shard = join(dir, 'model-00002-of-00002.safetensors');
    writeFileSync(shard, Buffer.from([1, 2, 3]));
    rejects(path, shard, /truncated: 3 bytes/);
  });
});
