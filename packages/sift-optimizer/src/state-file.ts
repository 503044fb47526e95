import type { AdamWOptions, OptimizerState, OptimizerStateDict } from '@siftjs/nn';
import { SafetensorsError, SafetensorsFile, safetensorsBytes, saveSafetensors, saveSafetensorsAsync } from '@siftjs/safetensors';
import type { Tensor } from '@siftjs/tensor';
import type { IncrementState } from './increment-state.js';
import type { SIFT, SIFTStateDict } from './sift.js';

/**
 * A SIFT training state on disk, to resume bit-exactly from the base model: safetensors holding each sparse
 * tensor's indices, base values, increment, moments (and selection buffers while a selection is in progress,
 * nominees while a re-selection is due, the gradient of the passes already run in an unfinished step), each dense
 * parameter, its pending gradient and its AdamW moments; the counters and hyper-parameters in the metadata. Float64
 * states stay float64 (the file stores each tensor in its own dtype).
 */
export const STATE_FORMAT = 'siftjs-sift-state';
/** 2: parameter groups, selection sums, re-selection nominees and pending gradients (1 held one lr). */
const STATE_VERSION = '2';

interface Counters {
  step: number;
  groups: SIFTStateDict['groups'];
  sparse: Record<string, Omit<IncrementState, 'tensors'>>;
  denseGroups: OptimizerStateDict<AdamWOptions>['paramGroups'] | null;
  denseNumbers: Record<string, Record<string, number>>;
  options: Record<string, string>;
}

/** The tensors and the metadata of `sift`'s state, as both save forms write them. */
function stateFile(sift: SIFT): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const sd = sift.stateDict();
  const tensors: Record<string, Tensor> = {};
  const counters: Counters = { step: sd.step, groups: sd.groups, sparse: {}, denseGroups: sd.denseOptimizer?.paramGroups ?? null, denseNumbers: {}, options: sift.describe() };
  for (const [name, s] of Object.entries(sd.sparse)) {
    const { tensors: own, ...numbers } = s;
    counters.sparse[name] = numbers;
    for (const [key, t] of Object.entries(own)) tensors[`sparse/${name}/${key}`] = t;
  }
  for (const [name, t] of Object.entries(sd.dense)) tensors[`dense/${name}`] = t;
  for (const [name, t] of Object.entries(sd.denseGrads)) tensors[`dense_grad/${name}`] = t;
  for (const [i, s] of Object.entries(sd.denseOptimizer?.state ?? {})) {
    counters.denseNumbers[i] = {};
    for (const [key, v] of Object.entries(s)) {
      if (typeof v === 'number') counters.denseNumbers[i][key] = v;
      else tensors[`dense_optimizer/${i}/${key}`] = v;
    }
  }
  return { tensors, metadata: { format: STATE_FORMAT, version: STATE_VERSION, counters: JSON.stringify(counters) } };
}

/** Writes `sift`'s state to `path` (temporary file, then rename). CPU tensors; `saveStateAsync` saves from any backend. */
export function saveState(sift: SIFT, path: string): void {
  const { tensors, metadata } = stateFile(sift);
  saveSafetensors(path, tensors, { metadata });
}

/** `saveState` from any backend (WebGPU included): the same file, each tensor read with `await toArray()`. */
export async function saveStateAsync(sift: SIFT, path: string): Promise<void> {
  const { tensors, metadata } = stateFile(sift);
  await saveSafetensorsAsync(path, tensors, { metadata });
}

/** The bytes `saveStateAsync` writes, in memory (a browser keeps them in its storage); `name` stands for the path in errors. */
export function stateBytes(sift: SIFT, name = 'state.safetensors'): Promise<Uint8Array> {
  const { tensors, metadata } = stateFile(sift);
  return safetensorsBytes(name, tensors, { metadata });
}

/** Restores a state written by `saveState` into `sift` (built over the same base model and options). */
export function loadState(sift: SIFT, path: string): void {
  const f = SafetensorsFile.open(path);
  try {
    loadStateFrom(sift, f);
  } finally {
    f.close();
  }
}

/** `loadState` from a state file already open (its bytes from a browser's storage); errors name `f.path`. */
export function loadStateFrom(sift: SIFT, f: SafetensorsFile): void {
  const path = f.path;
  const owned: Tensor[] = [];
  try {
    if (f.metadata.format !== STATE_FORMAT) throw new SafetensorsError(path, `not a SIFT state (metadata format is '${f.metadata.format ?? 'absent'}')`);
    if (f.metadata.version !== STATE_VERSION) {
      throw new SafetensorsError(path, `SIFT state version ${f.metadata.version ?? 'absent'} cannot be resumed by this version (it reads ${STATE_VERSION}); start the run again`);
    }
    let counters: Counters;
    try {
      counters = JSON.parse(f.metadata.counters);
    } catch {
      throw new SafetensorsError(path, "SIFT state metadata 'counters' is missing or not valid JSON");
    }
    const mine = sift.describe();
    for (const key of ['density', 'targets', 'selection'] as const) {
      if (counters.options[key] !== mine[key]) {
        throw new SafetensorsError(path, `SIFT state was saved with ${key} ${counters.options[key]}, this SIFT has ${mine[key]}`);
      }
    }
    const sd: SIFTStateDict = { step: counters.step, groups: counters.groups, sparse: {}, dense: {}, denseGrads: {}, denseOptimizer: null };
    const read = (key: string) => {
      const t = f.read(key);
      owned.push(t);
      return t;
    };
    for (const [name, c] of Object.entries(counters.sparse)) sd.sparse[name] = { ...c, tensors: {} };
    const denseState: Record<number, OptimizerState> = {};
    for (const [i, nums] of Object.entries(counters.denseNumbers)) denseState[Number(i)] = { ...nums };
    for (const key of f.keys()) {
      const [kind, ...rest] = key.split('/');
      if (kind === 'sparse') {
        const field = rest.pop() as string;
        const name = rest.join('/');
        if (!sd.sparse[name]) throw new SafetensorsError(path, `tensor '${key}' belongs to no sparse parameter in the metadata`);
        sd.sparse[name].tensors[field] = read(key);
      } else if (kind === 'dense') sd.dense[rest.join('/')] = read(key);
      else if (kind === 'dense_grad') sd.denseGrads[rest.join('/')] = read(key);
      else if (kind === 'dense_optimizer') (denseState[Number(rest[0])] ??= {})[rest[1]] = read(key);
      else throw new SafetensorsError(path, `unexpected tensor '${key}' in a SIFT state`);
    }
    if (counters.denseGroups) sd.denseOptimizer = { paramGroups: counters.denseGroups, state: denseState };
    sift.loadStateDict(sd);
  } finally {
    for (const t of owned) t.dispose();
  }
}
