import { NonFiniteError } from '@siftjs/sift-optimizer';
import { makeBatches } from '../data/batches.js';
import { DataError } from '../data/errors.js';
import { encodeExamples } from '../data/encode.js';
import { UsageError } from '../errors.js';
import { loadTaskModel, type Task } from '../model-dir.js';
import { evaluateAsync } from '../train/evaluate.js';
import { assertFiniteWeights } from '../train/finite.js';
import { readData } from './data-source.js';
import { applyDeltaFile } from './delta-input.js';

/** `sift eval`: loss (and accuracy) of a model, optionally with a sparse delta applied, on a whole dataset. */
export async function evalCommand(a: { model: string; data: string; task: string; delta?: string; maxLength: number; batchSize: number; textField: string; labelField: string }): Promise<void> {
  if (a.task !== 'classification' && a.task !== 'causal-lm') throw new UsageError(`unknown --task '${a.task}' (classification or causal-lm)`);
  const task = a.task as Task;
  const ds = readData(a.data, { textField: a.textField, labelField: task === 'classification' ? a.labelField : null });
  if (task === 'classification' && ds.labelNames.length < 2) throw new DataError(ds.source, `classification needs at least 2 classes, found ${ds.labelNames.length}`);
  const tm = loadTaskModel(a.model, task, Math.max(2, ds.labelNames.length));
  try {
    if (a.delta) await applyDeltaFile(tm.model, a.delta, a.model);
    // A NaN weight gives a NaN loss: say which weight, rather than print a loss of null.
    await assertFiniteWeights(tm.model, a.delta ? `${a.model} with ${a.delta}` : a.model);
  } catch (e) {
    tm.model.dispose();
    throw e;
  }
  const batches = makeBatches(encodeExamples(tm.tokenizer, ds.examples, { maxLength: a.maxLength, appendEos: task === 'causal-lm' }), { batchSize: a.batchSize, padId: tm.tokenizer.padId });
  const ev = await evaluateAsync(tm, batches);
  if (!Number.isFinite(ev.loss)) {
    tm.model.dispose();
    throw new NonFiniteError(`${ds.source}: the loss is ${ev.loss} though every weight is finite (the forward pass overflows, or no example has a token to predict)`);
  }
  process.stdout.write(`${JSON.stringify({ model: a.model, delta: a.delta ?? null, data: ds.source, ...ev })}\n`);
  tm.model.dispose();
}
