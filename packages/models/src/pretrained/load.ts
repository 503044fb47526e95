import type { Module } from '@siftjs/nn';
import { type Located, SafetensorsError, type SafetensorsFile } from '@siftjs/safetensors';
import { ownTensors, readInto, readIntoAsync, storedShapes, type WithFiles } from '../checkpoint.js';
import { CheckpointError } from './errors.js';
import type { CheckpointLayout } from './layout.js';
import { planFailed, planLoad } from './plan.js';

/** What a load did besides reading every parameter: nothing here is an error. */
export interface LoadReport {
  /** New-head parameters the checkpoint lacks, left as initialised from the seed (train them before use). */
  initialised: string[];
  /** Checkpoint tensors of another task's head, not read. */
  unused: string[];
  /** Known buffers in the checkpoint (causal masks, position ids, rotary frequencies), not read. */
  ignored: string[];
  /** Checkpoint keys read under their modern name (LayerNorm gamma → weight, beta → bias). */
  renamed: string[];
}

export interface LoadOptions {
  /**
   * true: every parameter comes from the checkpoint and every stored tensor is used (known buffers aside).
   * false (default): a head fine-tuning creates ('score', 'classifier') may be missing — it keeps its
   * initialisation — and another task's head in the checkpoint goes unused; both are named in one notice.
   * Anything else missing, unexpected or of the wrong shape is a CheckpointError either way.
   */
  strict?: boolean;
  /** Receives the notice, where there is one (default: console.warn). */
  onNotice?: (message: string, report: LoadReport) => void;
}

/** One notice naming what the load initialised and what it left unused, or null when there is nothing to say. */
export function loadNotice(dir: string, model: string, r: LoadReport): string | null {
  const parts: string[] = [];
  if (r.initialised.length) {
    parts.push(`initialised from the seed, not in the checkpoint (train before use): ${r.initialised.join(', ')}`);
  }
  if (r.unused.length) parts.push(`not used, another task's head: ${r.unused.join(', ')}`);
  return parts.length ? `${dir} → ${model}: ${parts.join('; ')}` : null;
}

/**
 * Loads a checkpoint directory into `model` by the rules of `layout` (see planLoad): every name and shape is
 * settled from the headers first, so a checkpoint that does not fit throws a CheckpointError having read nothing.
 */
export function loadPretrained(model: Module, dir: string, layout: CheckpointLayout, name: string, opts: LoadOptions = {}): LoadReport {
  const { located, shapes } = storedShapes(dir);
  return loadPlanned(model, dir, located, shapes, layout, name, opts);
}

/**
 * `loadPretrained` from one safetensors file already open (its bytes in memory in a browser): the same rules;
 * errors and the notice name `file.path`.
 */
export function loadPretrainedFile(model: Module, file: SafetensorsFile, layout: CheckpointLayout, name: string, opts: LoadOptions = {}): LoadReport {
  const located = new Map(file.keys().map((key) => [key, { file: file.path, key }]));
  const shapes = new Map(file.keys().map((key) => [key, file.info(key).shape]));
  const opened: WithFiles = (fn) => fn(() => file);
  return loadPlanned(model, file.path, located, shapes, layout, name, opts, opened);
}

/**
 * Whether loading `dir` into `model` reads every parameter (none keeps its initialisation, nothing fails to fit):
 * then the model may be built without initialising its parameters (fromPretrained's fast path).
 */
export function coversEveryParameter(model: Module, dir: string, layout: CheckpointLayout, opts: LoadOptions = {}): boolean {
  const { shapes } = storedShapes(dir);
  const plan = planLoad(ownTensors(model), shapes, layout, opts.strict ?? false);
  return !planFailed(plan) && plan.initialised.length === 0;
}

/**
 * `loadPretrained` from safetensors files already open that read asynchronously (a browser's Blobs: a picked folder's
 * model.safetensors, or the shards of its index), tensor by tensor. `where` names them in errors and the notice. A
 * tensor held by two of the files is a SafetensorsError naming both.
 */
export async function loadPretrainedFilesAsync(
  model: Module,
  files: readonly SafetensorsFile[],
  layout: CheckpointLayout,
  name: string,
  where: string,
  opts: LoadOptions = {},
): Promise<LoadReport> {
  const located = new Map<string, Located>();
  const shapes = new Map<string, number[]>();
  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const f of files) {
    for (const key of f.keys()) {
      const before = located.get(key);
      if (before) throw new SafetensorsError(f.path, `holds tensor '${key}', which ${before.file} holds too`);
      located.set(key, { file: f.path, key });
      shapes.set(key, f.info(key).shape);
    }
  }
  const plan = planLoad(ownTensors(model), shapes, layout, opts.strict ?? false);
  if (planFailed(plan)) throw new CheckpointError(where, name, plan);
  await readIntoAsync(model, located, plan.reads, (file) => byPath.get(file)!);
  return reported(where, name, plan, opts);
}

function reported(dir: string, name: string, plan: ReturnType<typeof planLoad>, opts: LoadOptions): LoadReport {
  const report: LoadReport = { initialised: plan.initialised, unused: plan.unused, ignored: plan.ignored, renamed: plan.renamed };
  const notice = loadNotice(dir, name, report);
  if (notice) (opts.onNotice ?? ((m: string) => console.warn(m)))(notice, report);
  return report;
}

function loadPlanned(
  model: Module,
  dir: string,
  located: Map<string, Located>,
  shapes: Map<string, number[]>,
  layout: CheckpointLayout,
  name: string,
  opts: LoadOptions,
  files?: WithFiles,
): LoadReport {
  const plan = planLoad(ownTensors(model), shapes, layout, opts.strict ?? false);
  if (planFailed(plan)) throw new CheckpointError(dir, name, plan);
  readInto(model, located, plan.reads, files);
  return reported(dir, name, plan, opts);
}
