import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Module } from '@siftjs/nn';
import { fmtShape, noGrad, ShapeError, type Tensor } from '@siftjs/tensor';
import { SafetensorsFile } from './safetensors/file.js';
import { saveSafetensors, saveSafetensorsAsync } from './safetensors/save.js';
import { SafetensorsError } from './safetensors/format.js';

/**
 * A base model (BertModel, …) loading a checkpoint saved from a task model (BertForSequenceClassification, …):
 * names there carry the base-model prefix ("bert."); keep those, without it, and drop the task head's.
 */
function withoutPrefix(map: Map<string, Located>, prefix?: string): Map<string, Located> {
  if (!prefix || ![...map.keys()].some((k) => k.startsWith(prefix))) return map;
  return new Map([...map].filter(([k]) => k.startsWith(prefix)).map(([k, at]) => [k.slice(prefix.length), at]));
}

/** Where a tensor is: its file, and its name in that file. */
export interface Located {
  file: string;
  key: string;
}

/** Which file holds each tensor: one model.safetensors, or shards listed in model.safetensors.index.json. */
export function weightMap(dir: string): Map<string, Located> {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    let parsed: { weight_map?: Record<string, string> };
    try {
      parsed = JSON.parse(readFileSync(index, 'utf8'));
    } catch (e) {
      throw new SafetensorsError(index, `invalid JSON (${(e as Error).message})`);
    }
    if (!parsed.weight_map || typeof parsed.weight_map !== 'object') throw new SafetensorsError(index, "missing 'weight_map'");
    return new Map(Object.entries(parsed.weight_map).map(([k, f]) => [k, { file: join(dir, f), key: k }]));
  }
  if (!existsSync(single)) throw new SafetensorsError(single, 'not found (nor model.safetensors.index.json)');
  const f = SafetensorsFile.open(single);
  try {
    return new Map(f.keys().map((k) => [k, { file: single, key: k }]));
  } finally {
    f.close();
  }
}

/**
 * Streams a checkpoint directory into a model, one tensor at a time, by Hugging Face name. Tied parameters (one
 * tensor under two names, like GPT-2's lm_head and wte) need only one of their names in the file. `strict`:
 * missing and unexpected names are errors listing all of them.
 */
export function loadWeights(
  model: Module,
  dir: string,
  { strict = true, basePrefix }: { strict?: boolean; basePrefix?: string } = {},
): { missing: string[]; unexpected: string[] } {
  const map = withoutPrefix(weightMap(dir), basePrefix);
  const own = model.stateDict();
  const byTensor = new Map<Tensor, string[]>();
  for (const [name, t] of Object.entries(own)) byTensor.set(t, [...(byTensor.get(t) ?? []), name]);
  const missing: string[] = [];
  for (const names of byTensor.values()) if (!names.some((n) => map.has(n))) missing.push(...names);
  const unexpected = [...map.keys()].filter((k) => !(k in own));
  if (strict && (missing.length || unexpected.length)) {
    throw new ShapeError(
      `loading ${dir}: ${[missing.length ? `missing keys: ${missing.join(', ')}` : '', unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : ''].filter(Boolean).join('. ')}`,
    );
  }
  const open = new Map<string, SafetensorsFile>();
  try {
    for (const [name, t] of Object.entries(own)) {
      const at = map.get(name);
      if (!at) continue;
      let f = open.get(at.file);
      if (!f) open.set(at.file, (f = SafetensorsFile.open(at.file)));
      const info = f.info(at.key);
      if (info.shape.join() !== t.shape.join()) {
        throw new ShapeError(`${at.file}: tensor '${at.key}' has shape ${fmtShape(info.shape)} but the model expects ${fmtShape(t.shape)}`);
      }
      const value = f.read(at.key, t.dtype);
      noGrad(() => t.copy_(value));
      value.dispose();
    }
  } finally {
    for (const f of open.values()) f.close();
  }
  return { missing, unexpected };
}

/** Each tensor of the state dict once (a tied tensor under its first name). */
function untied(model: Module): Record<string, Tensor> {
  const seen = new Set<Tensor>();
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(model.stateDict())) {
    if (seen.has(t)) continue;
    seen.add(t);
    tensors[name] = t;
  }
  return tensors;
}

function writeConfig(dir: string, config: object): void {
  const cfg = join(dir, 'config.json');
  writeFileSync(`${cfg}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
  renameSync(`${cfg}.tmp`, cfg);
}

/** Writes config.json and model.safetensors (each tied tensor once, under its first name), atomically. CPU tensors
 *  only (synchronous reads); `saveWeightsAsync` saves from any backend. */
export function saveWeights(model: Module, dir: string, config: object): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensors(join(dir, 'model.safetensors'), untied(model), { metadata: { format: 'pt' } });
  writeConfig(dir, config);
}

/** `saveWeights` from any backend (WebGPU included): the same files, each tensor read with `await toArray()`. */
export async function saveWeightsAsync(model: Module, dir: string, config: object): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await saveSafetensorsAsync(join(dir, 'model.safetensors'), untied(model), { metadata: { format: 'pt' } });
  writeConfig(dir, config);
}
