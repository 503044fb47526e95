import { join } from 'node:path';
import { type FineTuner, GradScaler, METHODS, type MethodName } from '@siftjs/sift-optimizer';
import type { Module } from '@siftjs/nn';
import { manualSeed } from '@siftjs/tensor';
import { type EncodedExample, makeBatches, type TokenBatch } from '../data/batches.js';
import { DataError } from '../data/errors.js';
import { encodeExamples } from '../data/encode.js';
import type { InstructionExample } from '../data/instruction.js';
import { encodeInstructions, packExamples } from '../data/instruction-encode.js';
import { writeFileAtomic } from '../data/save.js';
import { splitHeldOut } from '../data/split.js';
import { UsageError } from '../errors.js';
import { loadModelInput } from '../inputs.js';
import type { Task, TaskModel } from '../model-dir.js';
import { type ModelDtype, storedDtype } from '../model-dtype.js';
import { type CheckpointMeta, checkpointExists, resumeCheckpoint, saveCheckpointAsync } from '../train/checkpoint.js';
import { evaluateAsync } from '../train/evaluate.js';
import { assertFiniteWeights } from '../train/finite.js';
import { fit } from '../train/fit.js';
import { gradientCheckpointingNote, useGradientCheckpointing } from '../train/gradient-checkpointing.js';
import { JsonlLog } from '../train/log.js';
import { removeOrphans } from '../train/orphans.js';
import { saveFineTune } from '../train/save-result.js';
import { buildTuner } from '../train/tuner.js';
import { readData, readInstructions } from './data-source.js';

export interface FinetuneArgs {
  model: string;
  data: string;
  task: string;
  method: string;
  density: number;
  epochs: number;
  lr: number;
  batchSize: number;
  maxLength: number;
  heldOut: number;
  seed: number;
  out: string;
  resume: boolean;
  textField: string;
  labelField: string;
  /** Instruction data: the prompt and response fields of prompt/response rows. */
  promptField?: string;
  responseField?: string;
  /** Instruction data: concatenate examples into full windows of maxLength tokens instead of padding each. */
  packing?: boolean;
  loraRank?: number;
  /** Stop after this many epochs, leaving the checkpoint for --resume (time-sliced or preemptible machines). */
  stopAfter?: number;
  /** Go on when the training loss passes 100× its starting value (a non-finite one stops the run regardless). */
  allowDivergence?: boolean;
  /** Recompute each transformer block in backward instead of keeping its activations (the same weights, less memory). */
  gradientCheckpointing?: boolean;
  /** The dtype the model's (frozen base) weights are stored in; what trains stays float32. Default float32. */
  dtype?: ModelDtype;
}

/** `sift finetune`: one method on one dataset, evaluated each epoch, checkpointed, its result saved. */
export async function finetune(a: FinetuneArgs): Promise<void> {
  if (!(METHODS as readonly string[]).includes(a.method)) throw new UsageError(`unknown --method '${a.method}' (one of ${METHODS.join(', ')})`);
  if (!(TASKS as readonly string[]).includes(a.task)) throw new UsageError(`unknown --task '${a.task}' (${TASKS.join(', ')})`);
  if (a.packing && a.task !== 'instruction') throw new UsageError('--packing applies to --task instruction');
  const method = a.method as MethodName;
  const ckpt = join(a.out, 'checkpoint');
  if (!a.resume && checkpointExists(ckpt)) throw new UsageError(`${a.out}: holds a checkpoint already; pass --resume to continue it or choose another --out`);
  if (a.resume && !checkpointExists(ckpt)) throw new UsageError(`${ckpt}: no checkpoint to resume from (none was written in full); run without --resume to start over`);

  const data = prepareData(a);
  const tm = data.tm;
  useGradientCheckpointing(tm.model, a.gradientCheckpointing);
  const padId = tm.tokenizer.padId;
  const batchesFor = (epoch: number) => makeBatches(data.train, { batchSize: a.batchSize, padId, bucketByLength: true, seed: a.seed * 1000 + epoch });
  const heldBatches = makeBatches(data.heldOut, { batchSize: 2 * a.batchSize, padId });

  let tuner: FineTuner;
  try {
    tuner = buildTuner(tm, { method, lr: a.lr, density: a.density, loraRank: a.loraRank });
  } catch (e) {
    tm.model.dispose();
    throw e;
  }
  // Whatever ends the run (done, stopped, refused), the model and the optimizer state are freed.
  try {
    const split = `${data.source} (${data.train.length} ${a.packing ? 'packed windows' : 'train'} / ${data.heldOut.length} held out)`;
    await run(a, { method, ckpt, split, tm, tuner, batchesFor, heldBatches });
  } finally {
    tuner.dispose();
    tm.model.dispose();
  }
}

/** What `finetune` loaded and built for `run`. */
interface Prepared {
  method: MethodName;
  ckpt: string;
  /** The data and its split, as the first line says them. */
  split: string;
  tm: TaskModel;
  tuner: FineTuner;
  batchesFor: (epoch: number) => TokenBatch[];
  heldBatches: TokenBatch[];
}

/** Resumes or starts, trains the epochs left, saves the result and the metrics. */
async function run(a: FinetuneArgs, { method, ckpt, split, tm, tuner, batchesFor, heldBatches }: Prepared): Promise<void> {
  const dtype = storedDtype(a.dtype);
  const settings = { model: a.model, data: a.data, task: a.task, ...(a.packing ? { packing: true } : {}), ...(dtype ? { dtype } : {}), method, density: a.density, lr: a.lr, batchSize: a.batchSize, maxLength: a.maxLength, seed: a.seed, epochs: a.epochs };
  await assertFiniteWeights(tm.model, a.model);
  // A killed run may have left temporary files and a checkpoint save half done: clear the one, finish the other.
  removeOrphans(a.out);
  const resumed = a.resume ? resumeCheckpoint(ckpt, tuner, settings) : null;
  if (resumed) await assertFiniteWeights(tm.model, `${a.model} with ${ckpt}`);
  if (a.resume && !resumed) throw new UsageError(`${ckpt}: no checkpoint to resume from`); // removed since the check above
  const startEpoch = resumed?.epoch ?? 0;
  if (startEpoch > a.epochs) throw new UsageError(`${ckpt}: holds ${startEpoch} epochs, more than --epochs ${a.epochs}`);
  const log = new JsonlLog(join(a.out, 'log.jsonl'));
  log.retain((r) => typeof r.epoch === 'number' && r.epoch < startEpoch); // what a killed run logged past its checkpoint goes
  const left = startEpoch < a.epochs;
  // float16 weights: gradients that pass through them flush below 2^-24, so the loss is scaled (PyTorch's GradScaler).
  const scaler = holdsFloat16(tm.model) ? new GradScaler(tuner) : undefined;
  if (scaler && resumed?.gradScaler) {
    try {
      scaler.loadStateDict(resumed.gradScaler);
    } catch (e) {
      throw new UsageError(`${ckpt}: the loss scaler's saved state: ${(e as Error).message}`);
    }
  }
  process.stderr.write(
    `sift finetune: ${method} on ${split}, ${tuner.trainableCount().toLocaleString('en-US')} trainable parameters${dtype ? `, base weights stored as ${dtype}` : ''}${gradientCheckpointingNote(tm.model)}${scaler ? ', dynamic loss scaling (float16 weights)' : ''}${startEpoch ? `, resuming after epoch ${startEpoch}` : ''}${left ? '' : '; every epoch is done: saving the result'}\n`,
  );
  // Instruction tuning reports the held-out loss before training beside the one after: measured once, kept with
  // the checkpoints so that a resumed run reports the same.
  let lossBefore = resumed?.heldOutLossBefore;
  if (a.task === 'instruction' && startEpoch === 0) {
    lossBefore = (await evaluateAsync(tm, heldBatches)).loss;
    process.stderr.write(`before training: held-out loss ${lossBefore.toFixed(4)}, perplexity ${Math.exp(lossBefore).toFixed(2)}\n`);
  }
  let last: CheckpointMeta | null = resumed;
  if (left) {
    await fit({
      task: tm,
      tuner,
      batchesFor,
      heldOut: heldBatches,
      epochs: a.epochs,
      lr: a.lr,
      startEpoch,
      seed: a.seed,
      stopAfter: a.stopAfter,
      divergence: a.allowDivergence ? null : 100,
      startLoss: resumed?.startLoss,
      scaler,
      skippedBefore: resumed?.skippedSteps,
      log,
      afterEpoch: async (epoch, ev, progress) => {
        const fit = ev.accuracy === null ? `, perplexity ${Math.exp(ev.loss).toFixed(2)}` : `, accuracy ${(100 * ev.accuracy).toFixed(1)}%`;
        process.stderr.write(`epoch ${epoch + 1}: held-out loss ${ev.loss.toFixed(4)}${fit}\n`);
        last = {
          epoch: epoch + 1,
          method,
          settings,
          evaluation: ev,
          heldOutLossBefore: lossBefore,
          startLoss: progress.startLoss,
          seconds: (resumed?.seconds ?? 0) + progress.seconds,
          peakBytes: Math.max(resumed?.peakBytes ?? 0, progress.peakBytes),
          ...(scaler ? { gradScaler: scaler.stateDict(), skippedSteps: progress.skippedSteps } : {}),
        };
        await saveCheckpointAsync(ckpt, tuner, last);
      },
    });
  }
  if (a.stopAfter !== undefined && a.stopAfter < a.epochs) {
    process.stderr.write(`stopped after epoch ${a.stopAfter} of ${a.epochs}; continue with --resume\n`);
    return;
  }
  // The result and the metrics come from the state of the last checkpoint, so a resume that finds every epoch
  // done writes them again, the same bytes; metrics.json last, when everything else is in place.
  const done = last as CheckpointMeta | null;
  const saved = await saveFineTune(tm, tuner, a.out);
  const ev = done?.evaluation;
  const heldOutSummary = ev && ev.accuracy === null ? { ...ev, perplexity: Math.exp(ev.loss) } : ev;
  const summary = {
    method,
    task: a.task,
    trainable: tuner.trainableCount(),
    heldOutLossBefore: lossBefore,
    heldOut: heldOutSummary,
    memory: tuner.memoryReport(),
    peakBytes: done?.peakBytes,
    seconds: done?.seconds,
    ...(scaler ? { skippedSteps: done?.skippedSteps ?? 0 } : {}),
    saved: saved.file,
    savedBytes: saved.bytes,
  };
  writeFileAtomic(join(a.out, 'metrics.json'), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

/** Whether any weight is stored in float16 (bfloat16 has float32's range: it needs no loss scaling). */
function holdsFloat16(model: Module): boolean {
  for (const [, p] of model.namedParameters()) if (p.dtype === 'float16') return true;
  return false;
}

export const TASKS = ['classification', 'causal-lm', 'instruction'] as const;

interface PreparedData {
  tm: TaskModel;
  train: EncodedExample[];
  heldOut: EncodedExample[];
  source: string;
}

/**
 * Reads the data, loads the model for the task and tokenizes both splits. Instruction data is held out by example
 * (before any packing, so no held-out text is trained on) and its loss covers the response tokens only.
 */
function prepareData(a: FinetuneArgs): PreparedData {
  if (a.task === 'instruction') {
    const ds = readInstructions(a.data, { promptField: a.promptField, responseField: a.responseField });
    // Unlabelled: one class, held out as splitHeldOut holds out any unlabelled data.
    const split = splitHeldOut(ds.examples.map((ex) => ({ ex, label: undefined })), { fraction: a.heldOut, seed: a.seed });
    const [train, heldOut] = [split.train.map((x) => x.ex), split.heldOut.map((x) => x.ex)];
    if (train.length === 0 || heldOut.length === 0) throw new DataError(ds.source, `${ds.examples.length} examples are too few to hold out ${a.heldOut} of them`);
    manualSeed(a.seed);
    const tm = loadModelInput('--model', a.model, 'causal-lm', undefined, { dtype: storedDtype(a.dtype) });
    const enc = (xs: InstructionExample[], what: string) => {
      const r = encodeInstructions(tm.tokenizer, xs, a.maxLength);
      if (r.encoded.length === 0) throw new DataError(ds.source, `every ${what} example's prompt fills --max-length ${a.maxLength}: no response token is left to train on`);
      if (r.dropped > 0) process.stderr.write(`sift finetune: ${r.dropped} ${what} example(s) skipped: the prompt alone fills --max-length ${a.maxLength}\n`);
      return r.encoded;
    };
    const trainEnc = enc(train, 'training');
    return { tm, train: a.packing ? packExamples(trainEnc, a.maxLength) : trainEnc, heldOut: enc(heldOut, 'held-out'), source: ds.source };
  }
  const task = a.task as Task;
  const ds = readData(a.data, { textField: a.textField, labelField: task === 'classification' ? a.labelField : null });
  if (task === 'classification' && ds.labelNames.length < 2) throw new DataError(ds.source, `classification needs at least 2 classes in '${a.labelField}', found ${ds.labelNames.length}`);
  const { train, heldOut } = splitHeldOut(ds.examples, { fraction: a.heldOut, seed: a.seed });
  if (train.length === 0 || heldOut.length === 0) throw new DataError(ds.source, `${ds.examples.length} examples are too few to hold out ${a.heldOut} of them`);
  manualSeed(a.seed);
  const tm = loadModelInput('--model', a.model, task, Math.max(2, ds.labelNames.length), { dtype: storedDtype(a.dtype) });
  const enc = (xs: typeof train) => encodeExamples(tm.tokenizer, xs, { maxLength: a.maxLength, appendEos: task === 'causal-lm' });
  return { tm, train: enc(train), heldOut: enc(heldOut), source: ds.source };
}
