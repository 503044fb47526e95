import { NonFiniteError } from '@siftjs/sift-optimizer';
import { makeBatches } from '../data/batches.js';
import { DataError } from '../data/errors.js';
import { encodeExamples } from '../data/encode.js';
import { encodeInstructions } from '../data/instruction-encode.js';
import { UsageError } from '../errors.js';
import { applyDeltaInput, loadModelInput } from '../inputs.js';
import type { Task } from '../model-dir.js';
import { type ModelDtype, storedDtype } from '../model-dtype.js';
import { evaluateAsync } from '../train/evaluate.js';
import { assertFiniteWeights } from '../train/finite.js';
import { readData, readInstructions } from './data-source.js';
import { TASKS } from './finetune.js';

/**
 * `sift eval`: loss (and accuracy, or perplexity) of a model, optionally with a sparse delta or a PEFT adapter
 * applied, on a whole dataset. Instruction data is scored on its response tokens only.
 */
export async function evalCommand(a: {
  model: string;
  data: string;
  task: string;
  delta?: string;
  maxLength: number;
  batchSize: number;
  textField: string;
  labelField: string;
  promptField?: string;
  responseField?: string;
  /** The dtype the model's weights are stored in (default float32). */
  dtype?: ModelDtype;
}): Promise<void> {
  if (!(TASKS as readonly string[]).includes(a.task)) throw new UsageError(`unknown --task '${a.task}' (${TASKS.join(', ')})`);
  let tm;
  let encoded;
  let source: string;
  if (a.task === 'instruction') {
    const ds = readInstructions(a.data, { promptField: a.promptField, responseField: a.responseField });
    source = ds.source;
    tm = loadModelInput('--model', a.model, 'causal-lm', undefined, { dtype: storedDtype(a.dtype) });
    encoded = encodeInstructions(tm.tokenizer, ds.examples, a.maxLength).encoded;
    if (encoded.length === 0) throw new DataError(ds.source, `every example's prompt fills --max-length ${a.maxLength}: no response token is left to score`);
  } else {
    const task = a.task as Task;
    const ds = readData(a.data, { textField: a.textField, labelField: task === 'classification' ? a.labelField : null });
    source = ds.source;
    if (task === 'classification' && ds.labelNames.length < 2) throw new DataError(ds.source, `classification needs at least 2 classes, found ${ds.labelNames.length}`);
    tm = loadModelInput('--model', a.model, task, Math.max(2, ds.labelNames.length), { dtype: storedDtype(a.dtype) });
    encoded = encodeExamples(tm.tokenizer, ds.examples, { maxLength: a.maxLength, appendEos: task === 'causal-lm' });
  }
  try {
    if (a.delta) await applyDeltaInput(tm.model, a.delta);
    // A NaN weight gives a NaN loss: say which weight, rather than print a loss of null.
    await assertFiniteWeights(tm.model, a.delta ? `${a.model} with ${a.delta}` : a.model);
  } catch (e) {
    tm.model.dispose();
    throw e;
  }
  const ev = await evaluateAsync(tm, makeBatches(encoded, { batchSize: a.batchSize, padId: tm.tokenizer.padId }));
  if (!Number.isFinite(ev.loss)) {
    tm.model.dispose();
    throw new NonFiniteError(`${source}: the loss is ${ev.loss} though every weight is finite (the forward pass overflows, or no example has a token to predict)`);
  }
  const perplexity = ev.accuracy === null ? { perplexity: Math.exp(ev.loss) } : {};
  process.stdout.write(`${JSON.stringify({ model: a.model, delta: a.delta ?? null, data: source, ...ev, ...perplexity })}\n`);
  tm.model.dispose();
}
