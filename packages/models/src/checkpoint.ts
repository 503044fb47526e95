import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Module } from '@siftjs/nn';
import { type Located, SafetensorsFile, safetensorsBytes, saveSafetensors, saveSafetensorsAsync, weightMap } from '@siftjs/safetensors';
import { noGrad, type Tensor } from '@siftjs/tensor';
import { CheckpointError } from './pretrained/errors.js';
import { type LoadPlan, type OwnTensors, planFailed, planLoad } from './pretrained/plan.js';

/** The checkpoint's tensors with their shapes, from the headers alone (each file opened once). */
export function storedShapes(dir: string): { located: Map<string, Located>; shapes: Map<string, number[]> } {
  const located = weightMap(dir);
  const shapes = new Map<string, number[]>();
  withFiles((open) => {
    for (const [name, at] of located) shapes.set(name, open(at.file).info(at.key).shape);
  });
  return { located, shapes };
}

/** Runs `fn` with a way to open each file once; closes them all after. */
export function withFiles<R>(fn: (open: (file: string) => SafetensorsFile) => R): R {
  const files = new Map<string, SafetensorsFile>();
  try {
    return fn((file) => {
      let f = files.get(file);
      if (!f) files.set(file, (f = SafetensorsFile.open(file)));
      return f;
    });
  } finally {
    for (const f of files.values()) f.close();
  }
}

/** A model's state dict as a Map (names compared as data, never looked up on an object's prototype). */
export function ownTensors(model: Module): OwnTensors {
  return new Map(Object.entries(model.stateDict()).map(([name, t]) => [name, { tensor: t, shape: t.shape }]));
}

/** How a load reaches the files `Located` names: opened from disk by path (default), or files already open. */
export type WithFiles = <R>(fn: (open: (file: string) => SafetensorsFile) => R) => R;

/** Copies each planned read into the model's tensor, one tensor on the host at a time. */
export function readInto(model: Module, located: Map<string, Located>, reads: LoadPlan['reads'], files: WithFiles = withFiles): void {
  const own = new Map(Object.entries(model.stateDict()));
  files((open) => {
    for (const { name, key } of reads) {
      const t = own.get(name)!;
      const at = located.get(key)!;
      const value = open(at.file).read(at.key, t.dtype);
      try {
        noGrad(() => t.copy_(value));
      } finally {
        value.dispose();
      }
    }
  });
}

/**
 * `readInto` from files that read asynchronously (a browser's Blobs): each planned tensor read with `readAsync`,
 * copied into the model and freed before the next is read.
 */
export async function readIntoAsync(model: Module, located: Map<string, Located>, reads: LoadPlan['reads'], open: (file: string) => SafetensorsFile): Promise<void> {
  const own = new Map(Object.entries(model.stateDict()));
  for (const { name, key } of reads) {
    const t = own.get(name)!;
    const at = located.get(key)!;
    const value = await open(at.file).readAsync(at.key, t.dtype);
    try {
      noGrad(() => t.copy_(value));
    } finally {
      value.dispose();
    }
  }
}

/**
 * Streams a checkpoint directory into any module, name for name (sharded indexes and tied weights handled: a tied
 * tensor needs one of its names in the file). Every name and shape is checked before anything is read. `strict`
 * (default): missing and unexpected names are an error listing all of them; wrong shapes always are.
 * `basePrefix` ('bert.'): a checkpoint whose names carry it loads with it stripped, the rest left unused. Models of
 * the zoo load through `fromPretrained` / `loadPretrainedWeights`, which know their family's published layouts.
 */
export function loadWeights(
  model: Module,
  dir: string,
  { strict = true, basePrefix }: { strict?: boolean; basePrefix?: string } = {},
): { missing: string[]; unexpected: string[] } {
  const { located, shapes } = storedShapes(dir);
  const prefix = (basePrefix ?? '').replace(/\.$/, '');
  // Under a prefix, whatever lies outside it is a head this module does not have.
  const taskHeads = prefix ? [...shapes.keys()].filter((k) => !k.startsWith(`${prefix}.`)) : [];
  const layout = { basePrefix: prefix, isBase: true, taskHeads };
  const plan = planLoad(ownTensors(model), shapes, layout, strict);
  const fatal = strict ? plan : { ...plan, missing: [], unexpected: [] };
  if (planFailed(fatal)) throw new CheckpointError(dir, model.constructor.name, fatal);
  readInto(model, located, plan.reads);
  return { missing: plan.missing, unexpected: [...plan.unexpected, ...plan.unused] };
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

const configText = (config: object) => `${JSON.stringify(config, null, 2)}\n`;

function writeConfig(dir: string, config: object): void {
  const cfg = join(dir, 'config.json');
  writeFileSync(`${cfg}.tmp`, configText(config));
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

/** What `saveWeightsAsync` writes, in memory (a browser offers them as downloads): the same bytes, no file system. */
export async function weightsFiles(model: Module, config: object): Promise<{ config: string; weights: Uint8Array }> {
  return { config: configText(config), weights: await safetensorsBytes('model.safetensors', untied(model), { metadata: { format: 'pt' } }) };
}
