import { makeBatches } from '../data/batches.js';
import { DataError } from '../data/errors.js';
import { encodeExamples } from '../data/encode.js';
import { UsageError } from '../errors.js';
import { applyDeltaInput, loadModelInput } from '../inputs.js';
import type { Task } from '../model-dir.js';
import { evaluateAsync } from '../train/evaluate.js';
import { readData } from './data-source.js';

/** `sift eval`: loss (and accuracy) of a model, optionally with a sparse delta applied, on a whole dataset. */
export async function evalCommand(a: { model: string; data: string; task: string; delta?: string; maxLength: number; batchSize: number; textField: string; labelField: string }): Promise<void> {
  if (a.task !== 'classification' && a.task !== 'causal-lm') throw new UsageError(`unknown --task '${a.task}' (classification or causal-lm)`);
  const task = a.task as Task;
  const ds = readData(a.data, { textField: a.textField, labelField: task === 'classification' ? a.labelField : null });
  if (task === 'classification' && ds.labelNames.length < 2) throw new DataError(ds.source, `classification needs at least 2 classes, found ${ds.labelNames.length}`);
  const tm = loadModelInput('--model', a.model, task, Math.max(2, ds.labelNames.length));
  if (a.delta) await applyDeltaInput(tm.model, a.delta);
  const batches = makeBatches(encodeExamples(tm.tokenizer, ds.examples, { maxLength: a.maxLength, appendEos: task === 'causal-lm' }), { batchSize: a.batchSize, padId: tm.tokenizer.padId });
  const ev = await evaluateAsync(tm, batches);
  process.stdout.write(`${JSON.stringify({ model: a.model, delta: a.delta ?? null, data: ds.source, ...ev })}\n`);
  tm.model.dispose();
}
