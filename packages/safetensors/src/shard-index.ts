import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SafetensorsFile } from './file.js';
import { quoted, SafetensorsError } from './format.js';
import { type Json, JsonSyntaxError, kindOf, parseJson } from './json.js';

/*
 * A sharded checkpoint's index, `model.safetensors.index.json`, as Hugging Face writes it:
 * `{ "metadata": { "total_size": N, ... }, "weight_map": { tensor name: shard file name } }`, the shards beside it.
 * It has no published specification beyond that layout, so the rules are the safetensors header's where they
 * apply (UTF-8, strict JSON, no duplicate keys anywhere) and what keeps a load unambiguous: each shard a plain
 * file name in the index's folder (never a path out of it), and — when the shards are checked — each shard a valid
 * safetensors file holding exactly the tensors the index assigns to it.
 */

export interface ShardIndex {
  /** The index file. */
  path: string;
  /** Tensor name → the shard's path (in the index's folder; its file name from `parseShardIndex`). */
  weightMap: Map<string, string>;
  /** The index's `metadata` object, as parsed (free-form; `total_size` checked to be an integer). */
  metadata: Record<string, unknown>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads and validates an index; with `checkShards` (the default) also opens each shard's header and cross-checks. */
export function readShardIndex(path: string, { checkShards = true }: { checkShards?: boolean } = {}): ShardIndex {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SafetensorsError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const parsed = parseShardIndex(path, bytes);
  const folder = dirname(path);
  const weightMap = new Map([...parsed.weightMap].map(([name, file]) => [name, join(folder, file)]));
  if (checkShards) crossCheck(path, weightMap);
  return { path, weightMap, metadata: parsed.metadata };
}

/**
 * The rules of `readShardIndex` over an index's bytes already read (a browser's file): the weight map gives each
 * tensor's shard as a file name in the index's folder. `path` names the index in errors.
 */
export function parseShardIndex(path: string, bytes: Uint8Array): ShardIndex {
  const bad = (defect: string): never => {
    throw new SafetensorsError(path, defect);
  };
  let text = '';
  try {
    text = utf8.decode(bytes);
  } catch {
    bad('not valid UTF-8');
  }
  if (text.startsWith('\ufeff')) bad('begins with a byte-order mark, which JSON does not allow');
  let root: Json;
  try {
    const { value, end } = parseJson(text);
    if (!/^[ \t\n\r]*$/.test(text.slice(end))) throw new JsonSyntaxError('more after the JSON value', end);
    root = value;
  } catch (e) {
    if (e instanceof JsonSyntaxError) return bad(`invalid JSON (${e.message})`);
    throw e;
  }
  const dup = duplicateKey(root, 'the top level');
  if (dup) bad(dup);
  if (root.type !== 'object') return bad(`is ${kindOf(root)}, not a JSON object`);
  const top = new Map(root.members);
  const wm = top.get('weight_map');
  if (!wm) return bad("has no 'weight_map'");
  if (wm.type !== 'object') return bad(`'weight_map' is ${kindOf(wm)}, not an object of shard file names`);
  if (wm.members.length === 0) bad("'weight_map' lists no tensors");
  const weightMap = new Map<string, string>();
  for (const [name, shard] of wm.members) {
    if (shard.type !== 'string') return bad(`'weight_map' gives tensor ${quoted(name)} ${kindOf(shard)}, not a shard file name`);
    const file = shard.value;
    if (file === '' || file === '.' || file === '..' || /[\\/\0]/.test(file)) {
      bad(`'weight_map' puts tensor ${quoted(name)} in ${quoted(file)}, which is not a file name in the index's folder`);
    }
    weightMap.set(name, file);
  }
  const meta = top.get('metadata');
  if (meta && meta.type !== 'object') bad(`'metadata' is ${kindOf(meta)}, not an object`);
  const size = meta?.type === 'object' ? new Map(meta.members).get('total_size') : undefined;
  if (size && (size.type !== 'number' || !/^(0|[1-9][0-9]*)$/.test(size.text))) bad("'metadata.total_size' is not a non-negative integer");
  const metadata = meta?.type === 'object' ? (JSON.parse(text).metadata as Record<string, unknown>) : {};
  return { path, weightMap, metadata };
}

/** The first duplicate key anywhere in `v`, as a message, or null. */
function duplicateKey(v: Json, where: string): string | null {
  if (v.type === 'array') {
    for (const x of v.items) {
      const d = duplicateKey(x, where);
      if (d) return d;
    }
  }
  if (v.type !== 'object') return null;
  const seen = new Set<string>();
  for (const [k, x] of v.members) {
    if (seen.has(k)) return `key ${quoted(k)} appears twice in ${where}${where === 'weight_map' ? ' (a tensor listed twice)' : ''}`;
    seen.add(k);
    const d = duplicateKey(x, where === 'the top level' ? k : `${where}.${k}`);
    if (d) return d;
  }
  return null;
}

/** Each shard exists, is a valid safetensors file, and holds exactly the tensors the index assigns to it. */
function crossCheck(index: string, weightMap: Map<string, string>): void {
  checkShardContents(index, weightMap, (shard) => {
    if (!existsSync(shard)) return null;
    const f = SafetensorsFile.open(shard);
    try {
      return f.keys();
    } finally {
      f.close();
    }
  });
}

/**
 * That each shard of `weightMap` holds exactly the tensors the index assigns to it; `held` gives a shard's tensor
 * names (from its header), or null when the shard is not there. For a browser, whose shards are Blobs.
 */
export function checkShardContents(index: string, weightMap: Map<string, string>, held: (shard: string) => string[] | null): void {
  const byShard = new Map<string, Set<string>>();
  for (const [name, shard] of weightMap) byShard.set(shard, (byShard.get(shard) ?? new Set()).add(name));
  for (const [shard, names] of byShard) {
    const keys = held(shard);
    if (keys === null) throw new SafetensorsError(shard, `not found (${index} lists it as a shard)`);
    const has = new Set(keys);
    for (const name of names) if (!has.has(name)) throw new SafetensorsError(shard, `has no tensor ${quoted(name)}, which ${index} puts in it`);
    for (const name of has) {
      if (names.has(name)) continue;
      const elsewhere = weightMap.get(name);
      throw new SafetensorsError(shard, `holds tensor ${quoted(name)}, which ${index} ${elsewhere ? `puts in ${elsewhere.split(/[\\/]/).pop()}` : 'does not list'}`);
    }
  }
}
