import { SafetensorsFile, safetensorsBytes, type SaveOptions } from '@siftjs/safetensors';
import type { AdamWOptions, OptimizerState, OptimizerStateDict } from '@siftjs/nn';
import { DenseFineTuner, type FineTuner, loadStateFrom, SIFT, stateBytes } from '@siftjs/sift-optimizer';
import { noGrad, type Tensor } from '@siftjs/tensor';
import { UsageError } from '../errors.js';

/*
 * A tuner's training state as the checkpoint's state.safetensors holds it: SIFT's state file (sift-optimizer's
 * state-file.ts), or a dense method's trained parameters and AdamW moments. Free of the file system: the checkpoint
 * writes these tensors to disk, a browser keeps the bytes in its storage.
 */

function cannot(tuner: FineTuner): never {
  throw new Error(`cannot checkpoint method '${tuner.method}'`);
}

/** The trained parameters and AdamW's state of a dense method, as safetensors (numbers in the metadata). */
export function denseState(tuner: DenseFineTuner): [Record<string, Tensor>, SaveOptions] {
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

/** state.safetensors' bytes for `tuner` (any backend: tensors are read with `await toArray()`). */
export function tunerStateBytes(tuner: FineTuner, name = 'state.safetensors'): Promise<Uint8Array> {
  if (tuner instanceof SIFT) return stateBytes(tuner, name);
  if (tuner instanceof DenseFineTuner) return safetensorsBytes(name, ...denseState(tuner));
  return cannot(tuner);
}

/** Reads a state file into `tuner` (built over the base model with the same settings). */
export function loadTunerState(tuner: FineTuner, file: SafetensorsFile): void {
  if (tuner instanceof SIFT) loadStateFrom(tuner, file);
  else if (tuner instanceof DenseFineTuner) loadDenseState(tuner, file);
  else cannot(tuner);
}

function loadDenseState(tuner: DenseFineTuner, file: SafetensorsFile): void {
  const meta = file.metadata;
  const state: Record<number, OptimizerState> = {};
  for (const [i, nums] of Object.entries(JSON.parse(meta.numbers ?? '{}') as Record<string, Record<string, number>>)) state[Number(i)] = { ...nums };
  const loaded: Tensor[] = [];
  try {
    for (const name of file.keys()) {
      const t = file.read(name);
      loaded.push(t);
      if (name.startsWith('param/')) {
        const target = tuner.trainable.find((x) => x.name === name.slice(6));
        if (!target) throw new UsageError(`${file.path}: holds ${name.slice(6)}, which this run does not train`);
        noGrad(() => target.param.copy_(t.cast(target.param.dtype)));
      } else {
        const [, i, key] = name.split('/');
        (state[Number(i)] ??= {})[key] = t;
      }
    }
    tuner.loadStateDict({ state, paramGroups: JSON.parse(meta.groups ?? '[]') } as OptimizerStateDict<AdamWOptions>);
  } finally {
    for (const t of loaded) t.dispose();
  }
}

/** `loadTunerState` of a state file on disk. */
export function loadTunerStateFile(tuner: FineTuner, path: string): void {
  const file = SafetensorsFile.open(path);
  try {
    loadTunerState(tuner, file);
  } finally {
    file.close();
  }
}
