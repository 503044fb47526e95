import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, type SaveOptions, saveSafetensors, saveSafetensorsAsync } from '@siftjs/models';
import type { AdamWOptions, OptimizerState, OptimizerStateDict } from '@siftjs/nn';
import { DenseFineTuner, type FineTuner, loadState, SIFT, saveState, saveStateAsync } from '@siftjs/sift-optimizer';
import { noGrad, type Tensor } from '@siftjs/tensor';
import { UsageError } from '../errors.js';

/** What a checkpoint records besides the tensors: enough to continue the same run. */
export interface CheckpointMeta {
  /** Epochs finished. */
  epoch: number;
  method: string;
  /** The run's settings; resuming with different ones is refused. */
  settings: Record<string, unknown>;
}

const STATE_FILE = 'state.safetensors';

/** A fresh `dir.tmp` for the new checkpoint. */
function begin(dir: string): string {
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  return tmp;
}

/** Adds the meta to the filled `tmp`, moves the previous checkpoint aside, renames the new one into place. */
function publish(dir: string, tmp: string, meta: CheckpointMeta): void {
  writeFileSync(join(tmp, 'checkpoint.json'), `${JSON.stringify(meta, null, 2)}\n`);
  const old = `${dir}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

function cannot(tuner: FineTuner): never {
  throw new Error(`saveCheckpoint: cannot checkpoint method '${tuner.method}'`);
}

/**
 * Writes the training state into `dir` atomically: a fresh `dir.tmp` is filled, the previous checkpoint is moved
 * aside, the new one renamed into place, the old one removed. A crash at any point leaves a complete checkpoint
 * (the previous or the new) under `dir` or `dir.old`. CPU tensors (synchronous reads); `saveCheckpointAsync` saves
 * from any backend.
 */
export function saveCheckpoint(dir: string, tuner: FineTuner, meta: CheckpointMeta): void {
  const tmp = begin(dir);
  const path = join(tmp, STATE_FILE);
  if (tuner instanceof SIFT) saveState(tuner, path);
  else if (tuner instanceof DenseFineTuner) saveSafetensors(path, ...denseState(tuner));
  else cannot(tuner);
  publish(dir, tmp, meta);
}

/** `saveCheckpoint` from any backend (WebGPU included): the same files, the same atomicity. */
export async function saveCheckpointAsync(dir: string, tuner: FineTuner, meta: CheckpointMeta): Promise<void> {
  const tmp = begin(dir);
  const path = join(tmp, STATE_FILE);
  if (tuner instanceof SIFT) await saveStateAsync(tuner, path);
  else if (tuner instanceof DenseFineTuner) await saveSafetensorsAsync(path, ...denseState(tuner));
  else cannot(tuner);
  publish(dir, tmp, meta);
}

/** Reads a checkpoint into `tuner` (built over the base model with the same settings); returns its meta. */
export function loadCheckpoint(dir: string, tuner: FineTuner, settings: Record<string, unknown>): CheckpointMeta {
  const at = existsSync(join(dir, 'checkpoint.json')) ? dir : existsSync(join(`${dir}.old`, 'checkpoint.json')) ? `${dir}.old` : null;
  if (!at) throw new UsageError(`${dir}: no checkpoint to resume from`);
  const meta = JSON.parse(readFileSync(join(at, 'checkpoint.json'), 'utf8')) as CheckpointMeta;
  for (const [k, v] of Object.entries(settings)) {
    if (JSON.stringify(meta.settings[k]) !== JSON.stringify(v)) {
      throw new UsageError(`${join(at, 'checkpoint.json')}: was made with ${k} = ${JSON.stringify(meta.settings[k])}, this run has ${JSON.stringify(v)}`);
    }
  }
  if (tuner instanceof SIFT) loadState(tuner, join(at, STATE_FILE));
  else if (tuner instanceof DenseFineTuner) loadDenseState(tuner, join(at, STATE_FILE));
  return meta;
}

/** The trained parameters and AdamW's state of a dense method, as safetensors (numbers in the metadata). */
function denseState(tuner: DenseFineTuner): [Record<string, Tensor>, SaveOptions] {
  const sd = tuner.stateDict();
  const tensors: Record<string, Tensor> = {};
  const numbers: Record<string, Record<string, number>> = {};
  for (const t of tuner.trainable) tensors[`param/${t.name}`] = t.param;
  for (const [i, s] of Object.entries(sd.state)) {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === 'number') (numbers[i] ??= {})[k] = v;
      else tensors[`state/${i}/${k}`] = v;
    }
  }
  return [tensors, { metadata: { groups: JSON.stringify(sd.paramGroups), numbers: JSON.stringify(numbers) } }];
}

function loadDenseState(tuner: DenseFineTuner, path: string): void {
  const file = SafetensorsFile.open(path);
  try {
    const meta = file.metadata;
    const state: Record<number, OptimizerState> = {};
    for (const [i, nums] of Object.entries(JSON.parse(meta.numbers ?? '{}') as Record<string, Record<string, number>>)) state[Number(i)] = { ...nums };
    const loaded: Tensor[] = [];
    for (const name of file.keys()) {
      const t = file.read(name);
      loaded.push(t);
      if (name.startsWith('param/')) {
        const target = tuner.trainable.find((x) => x.name === name.slice(6));
        if (!target) throw new UsageError(`${path}: holds ${name.slice(6)}, which this run does not train`);
        noGrad(() => target.param.copy_(t.cast(target.param.dtype)));
      } else {
        const [, i, key] = name.split('/');
        (state[Number(i)] ??= {})[key] = t;
      }
    }
    tuner.loadStateDict({ state, paramGroups: JSON.parse(meta.groups ?? '[]') } as OptimizerStateDict<AdamWOptions>);
    for (const t of loaded) t.dispose();
  } finally {
    file.close();
  }
}
