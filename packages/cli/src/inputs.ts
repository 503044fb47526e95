import type { Module } from '@siftjs/nn';
import { applyDelta, applyPeftAdapter, isPeftAdapterDir, loadDelta, type SparseDelta } from '@siftjs/sift-optimizer';
import { type DType, DTypeError, ShapeError } from '@siftjs/tensor';
import { inputErrorLine, UsageError } from './errors.js';
import { loadTaskModel, type Task, type TaskModel } from './model-dir.js';
import { checkFile } from './validate.js';

/**
 * Reading what the user named — a model directory, a sparse delta — with every failure that is about that input
 * turned into one line naming the flag and the path. Inside such a step a ShapeError, a RangeError (an unsupported
 * dtype, a size that cannot be allocated) or a JSON SyntaxError comes from the file's content, so it is the
 * input's fault; the same error types elsewhere are bugs and keep their stack trace.
 */

function aboutTheInput(e: unknown): e is Error {
  return inputErrorLine(e) !== null || e instanceof ShapeError || e instanceof DTypeError || e instanceof RangeError || e instanceof SyntaxError;
}

function attribute(flag: string, path: string, e: unknown): unknown {
  if (e instanceof UsageError || !aboutTheInput(e)) return e;
  const line = (inputErrorLine(e) ?? e.message).replace(/\s*\n\s*/g, ' ');
  return new UsageError(line.startsWith(path) ? `${flag} ${line}` : `${flag} ${path}: ${line}`, { cause: e });
}

/** Runs `fn`, which reads `path` (given as `flag`); its input errors name the flag and the path. */
export function asInput<T>(flag: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw attribute(flag, path, e);
  }
}

/** `asInput` for an asynchronous step. */
export async function asInputAsync<T>(flag: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw attribute(flag, path, e);
  }
}

/** `loadTaskModel` of the directory given as `flag` (--model, --base). */
export function loadModelInput(flag: string, dir: string, task: Task, numLabels?: number, opts?: { randomInit?: boolean; dtype?: DType }): TaskModel {
  return asInput(flag, dir, () => loadTaskModel(dir, task, numLabels, opts));
}

/** The sparse delta file given as `flag`: a readable regular file holding a well-formed delta. */
export function readDeltaInput(file: string, flag = '--delta'): SparseDelta {
  checkFile(flag, file);
  return asInput(flag, file, () => loadDelta(file));
}

/**
 * Applies what `flag` names to `model`: a sparse-delta file written by `sift finetune`, or a Hugging Face PEFT adapter
 * directory (Super-Tuning, SHiRA or LoRA: adapter_config.json + adapter_model.safetensors). One made for another
 * model is the input's fault.
 */
export async function applyDeltaInput(model: Module, path: string, flag = '--delta'): Promise<void> {
  if (isPeftAdapterDir(path)) {
    await asInputAsync(flag, path, () => applyPeftAdapter(model, path));
    return;
  }
  const delta = readDeltaInput(path, flag);
  await asInputAsync(flag, path, () => applyDelta(model, delta));
}
