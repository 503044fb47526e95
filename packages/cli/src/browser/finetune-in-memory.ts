import type { PretrainedModel, RawConfig } from '@siftjs/models';
import type { SafetensorsFile } from '@siftjs/safetensors';
import { type FineTuner, type MethodName, SIFT } from '@siftjs/sift-optimizer';
import { getRngState, manualSeed, type RngState } from '@siftjs/tensor';
import { makeBatches } from '../data/batches.js';
import { encodeExamples } from '../data/encode.js';
import { DataError } from '../data/errors.js';
import { type DataFormat, parseDataset } from '../data/read.js';
import { splitHeldOut } from '../data/split.js';
import type { Evaluation } from '../train/evaluate.js';
import { assertFiniteWeights } from '../train/finite.js';
import { fitLoop } from '../train/loop.js';
import { buildTuner } from '../train/tuner.js';
import { loadTunerState, tunerStateBytes } from '../train/tuner-state.js';
import { buildTaskModel, type TaskModel, tokenizerFromJson } from '../task-model.js';
import { type Predictor, predictor } from './predictor.js';
import { resultFiles, type ResultFile } from './result-files.js';

/** The methods a page offers: `sift finetune --method` for each. */
export const BROWSER_METHODS = ['sift', 'lora', 'full', 'head'] as const satisfies readonly MethodName[];
export type BrowserMethod = (typeof BROWSER_METHODS)[number];

/**
 * `sift finetune --task classification` with its inputs in memory rather than in files: for a browser page, which
 * has no file system. The same steps in the same order as commands/finetune.ts (split, seed, model, tokenization,
 * batches, tuner, the training loop), so for the same model, data, method, seed and backend the result's bytes are
 * the ones `sift finetune` writes.
 */
export interface InMemoryFinetune {
  /**
   * The model: config.json's contents, its weights (model.safetensors, or every shard of its index; files from
   * `SafetensorsFile.fromBlob` are read tensor by tensor), tokenizer.json's contents (null: GPT-2's own BPE) and
   * tokenizer_config.json's.
   */
  model: { name: string; config: RawConfig; weights: SafetensorsFile | readonly SafetensorsFile[]; tokenizer: unknown; tokenizerConfig?: Record<string, unknown> };
  /** The data file's text, its name (for errors) and format; fields as --text-field / --label-field. */
  data: { name: string; text: string; format: DataFormat; textField?: string; labelField?: string };
  /** Default 'sift'. */
  method?: BrowserMethod;
  /** LoRA's rank (default: the rank whose trainable count is closest to SIFT's at `density`, as `sift finetune`). */
  loraRank?: number;
  density: number;
  lr: number;
  epochs: number;
  batchSize: number;
  maxLength: number;
  heldOut: number;
  seed: number;
  /** After each step: its loss, and the tokens trained so far in this call. */
  onStep?: (step: number, total: number, loss: number, tokens: number) => void;
  onEpoch?: (epoch: number, evaluation: Evaluation) => void;
  /** Awaited after each backward pass: a page yields to its event loop here (so it repaints and hears Stop). */
  between?: (step: number) => Promise<void>;
  /** Asked after each step: true ends the run there, its state saved first when `checkpoint` is given. */
  shouldStop?: () => boolean;
  /** Saves the training state every `every` steps and after each epoch's evaluation, for `resume`. */
  checkpoint?: { every: number; save: (c: InMemoryCheckpoint) => Promise<void> };
  /** Continues a run from a checkpoint `checkpoint.save` was given (its state file opened from the bytes). */
  resume?: { state: SafetensorsFile; step: number; rng: RngState; startLoss?: number };
  /** Keeps the trained model for `result.predictor` (the caller disposes it) instead of freeing it. */
  keepModel?: boolean;
}

/** A run's state after `step` steps: enough, with the same inputs, to go on as if it had never stopped. */
export interface InMemoryCheckpoint {
  step: number;
  /** state.safetensors as `sift finetune`'s checkpoint holds it (SIFT's state file, or a dense method's). */
  state: Uint8Array;
  rng: RngState;
  startLoss?: number;
  /** Set when the checkpoint ends an epoch: its held-out evaluation. */
  evaluation?: Evaluation & { epoch: number };
}

export interface InMemoryResult {
  /** What `sift finetune` writes for the method (delta.safetensors for SIFT…), and SIFT's PEFT adapter; none when stopped. */
  files: ResultFile[];
  /** SIFT's delta.safetensors (also in `files`). */
  delta?: Uint8Array;
  /** Why SIFT's delta has no PEFT adapter (PEFT's sparse tuners take torch.nn.Linear weights only). */
  peftRefused?: string;
  /** Whether `shouldStop` ended the run before its last step. */
  stopped: boolean;
  /** Steps done in all (a resumed run's included) and the run's total. */
  step: number;
  totalSteps: number;
  /** This call's losses and evaluations (a resumed run's earlier ones are the caller's). */
  losses: number[];
  evaluations: (Evaluation & { epoch: number })[];
  trainable: number;
  seconds: number;
  tokensPerSecond: number;
  peakBytes: number;
  /** Train / held-out examples and the class names, in label order. */
  split: { train: number; heldOut: number; labels: string[] };
  /** The trained model, to classify texts with (`keepModel`); dispose it when done. */
  predictor?: Predictor;
}

class StopRun extends Error {}

/** Trains and returns the result; the model and the optimizer state are freed whatever happens (but see keepModel). */
export async function finetuneInMemory(o: InMemoryFinetune): Promise<InMemoryResult> {
  const method = o.method ?? 'sift';
  const ds = parseDataset(o.data.name, o.data.text, o.data.format, { textField: o.data.textField ?? 'text', labelField: o.data.labelField ?? 'label' });
  if (ds.examples.length === 0) throw new DataError(o.data.name, 'the dataset is empty');
  if (ds.labelNames.length < 2) throw new DataError(o.data.name, `classification needs at least 2 classes in '${o.data.labelField ?? 'label'}', found ${ds.labelNames.length}`);
  const { train, heldOut } = splitHeldOut(ds.examples, { fraction: o.heldOut, seed: o.seed });
  if (train.length === 0 || heldOut.length === 0) throw new DataError(o.data.name, `${ds.examples.length} examples are too few to hold out ${o.heldOut} of them`);
  manualSeed(o.seed);
  const tm = taskModel(o.model, Math.max(2, ds.labelNames.length));
  let tuner: FineTuner | null = null;
  let kept = false;
  try {
    await loadWeights(tm, o.model);
    const enc = (xs: typeof train) => encodeExamples(tm.tokenizer, xs, { maxLength: o.maxLength, appendEos: false });
    const [trainEnc, heldEnc] = [enc(train), enc(heldOut)];
    const padId = tm.tokenizer.padId;
    const batchesFor = (epoch: number) => makeBatches(trainEnc, { batchSize: o.batchSize, padId, bucketByLength: true, seed: o.seed * 1000 + epoch });
    const heldBatches = makeBatches(heldEnc, { batchSize: 2 * o.batchSize, padId });
    tuner = buildTuner(tm, { method, lr: o.lr, density: o.density, loraRank: o.loraRank });
    await assertFiniteWeights(tm.model, o.model.name);
    if (o.resume) loadTunerState(tuner, o.resume.state);
    // Each step's real tokens (the loop counts them the same way), to show tokens/s as it trains.
    const stepTokens = Array.from({ length: o.epochs }, (_, e) => batchesFor(e).map((b) => b.attentionMask.reduce((n, m) => n + m, 0))).flat();
    const total = stepTokens.length;
    const perEpoch = total / o.epochs;
    const first = o.resume?.step ?? 0;
    if (first > total) throw new DataError(o.data.name, `the saved run is at step ${first}, past this run's ${total} steps`);
    const save = async (step: number, run: { startLoss: number | undefined; rng: RngState }, evaluation?: InMemoryCheckpoint['evaluation']) => {
      if (!o.checkpoint || !tuner) return;
      await o.checkpoint.save({ step, state: await tunerStateBytes(tuner), rng: run.rng, startLoss: run.startLoss, ...(evaluation ? { evaluation } : {}) });
    };
    let tokens = 0;
    let reached = first;
    let savedAt = first;
    let stopped = false;
    let r: Awaited<ReturnType<typeof fitLoop>> | null = null;
    try {
      r = await fitLoop({
        task: tm,
        tuner,
        batchesFor,
        heldOut: heldBatches,
        epochs: o.epochs,
        lr: o.lr,
        startStep: first,
        rngState: o.resume?.rng,
        startLoss: o.resume?.startLoss,
        seed: o.seed,
        divergence: 100,
        quiet: true,
        log: { path: '(in memory)', write: () => {} },
        afterBackward: o.between,
        afterStep: async (step, run) => {
          reached = step;
          tokens += stepTokens[step - 1] ?? 0;
          o.onStep?.(step, total, run.loss, tokens);
          // An epoch's last step is saved (and a stop there heard) after its evaluation, so a resume never skips one.
          if (step % perEpoch === 0) return;
          const stop = o.shouldStop?.() === true;
          if (stop || step % (o.checkpoint?.every ?? Infinity) === 0) {
            await save(step, run);
            savedAt = step;
          }
          if (stop) throw new StopRun();
        },
        afterEpoch: async (epoch, ev, run) => {
          o.onEpoch?.(epoch, ev);
          // The generator's state is kept for form's sake: a resume at an epoch's end re-seeds for the next epoch.
          await save((epoch + 1) * perEpoch, { startLoss: run.startLoss, rng: getRngState() }, { ...ev, epoch });
          savedAt = (epoch + 1) * perEpoch;
          if (o.shouldStop?.() === true && savedAt < total) throw new StopRun();
        },
      });
    } catch (e) {
      if (!(e instanceof StopRun)) throw e;
      stopped = true;
    }
    const trainable = tuner.trainableCount();
    const split = { train: train.length, heldOut: heldOut.length, labels: ds.labelNames.map(String) };
    if (stopped || !r) {
      return { files: [], stopped: true, step: o.checkpoint ? savedAt : reached, totalSteps: total, losses: [], evaluations: [], trainable, seconds: 0, tokensPerSecond: 0, peakBytes: NaN, split };
    }
    const { files, peftRefused } = await resultFiles(tm, tuner, o.model.name);
    const delta = tuner instanceof SIFT ? files.find((f) => f.name === 'delta.safetensors')?.bytes : undefined;
    const result: InMemoryResult = { files, ...(peftRefused ? { peftRefused } : {}), stopped: false, step: total, totalSteps: total, losses: r.losses, evaluations: r.evaluations, trainable, seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, peakBytes: r.peakBytes, split };
    if (delta instanceof Uint8Array) result.delta = delta;
    if (o.keepModel) {
      result.predictor = predictor(tm, tuner, { maxLength: o.maxLength, labels: split.labels });
      kept = true;
    }
    return result;
  } finally {
    if (!kept) {
      tuner?.dispose();
      tm.model.dispose();
    }
  }
}

/** The classification model of `m`, as loadTaskModel builds it from a directory (its weights loaded after). */
function taskModel(m: InMemoryFinetune['model'], numLabels: number): TaskModel {
  const type = String(m.config.model_type ?? '');
  const tokenizer = tokenizerFromJson(m.tokenizer, m.tokenizerConfig ?? {}, `${m.name}/tokenizer_config.json`, type, m.name);
  return buildTaskModel({ raw: m.config, configFile: `${m.name}/config.json`, tokenizer, task: 'classification', numLabels, where: m.name, load: () => {} });
}

/**
 * The pre-trained weights, by the same rules as `sift finetune`'s load (only the new head may be missing). Weights
 * draw no random numbers, so loading them after the model is built (with its head initialised from the seed)
 * leaves every number as the CLI's order gives it.
 */
async function loadWeights(tm: TaskModel, m: InMemoryFinetune['model']): Promise<void> {
  const files = Array.isArray(m.weights) ? (m.weights as readonly SafetensorsFile[]) : [m.weights as SafetensorsFile];
  await (tm.model as PretrainedModel).loadPretrainedWeightsFromAsync(files, m.name, { onNotice: () => {} });
}

