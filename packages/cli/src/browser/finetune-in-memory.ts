import type { RawConfig } from '@siftjs/models';
import type { SafetensorsFile } from '@siftjs/safetensors';
import { createFineTuner, deltaBytes, extractDelta, type FineTuner, SIFT } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { makeBatches } from '../data/batches.js';
import { BpeTokenizer } from '../data/bpe-tokenizer.js';
import { encodeExamples } from '../data/encode.js';
import { DataError } from '../data/errors.js';
import { type DataFormat, parseDataset } from '../data/read.js';
import { splitHeldOut } from '../data/split.js';
import type { Evaluation } from '../train/evaluate.js';
import { assertFiniteWeights } from '../train/finite.js';
import { fitLoop } from '../train/loop.js';
import { buildTaskModel, type TaskModel } from '../task-model.js';

/**
 * `sift finetune --task classification --method sift` with its inputs in memory rather than in files: for a browser
 * page, which has no file system. The same steps in the same order as commands/finetune.ts (split, seed, model,
 * tokenization, batches, tuner, the training loop), so for the same model, data, seed and backend the delta's
 * bytes are the ones `sift finetune` writes to delta.safetensors.
 */
export interface InMemoryFinetune {
  /** The model: config.json's contents, its weights (one safetensors file), tokenizer.json and tokenizer_config.json. */
  model: { name: string; config: RawConfig; weights: SafetensorsFile; tokenizer: unknown; tokenizerConfig?: Record<string, unknown> };
  /** The data file's text, its name (for errors) and format; fields as --text-field / --label-field. */
  data: { name: string; text: string; format: DataFormat; textField?: string; labelField?: string };
  density: number;
  lr: number;
  epochs: number;
  batchSize: number;
  maxLength: number;
  heldOut: number;
  seed: number;
  /** After each step: its loss, and the tokens trained so far. */
  onStep?: (step: number, total: number, loss: number, tokens: number) => void;
  onEpoch?: (epoch: number, evaluation: Evaluation) => void;
  /**
   * Awaited after each backward pass: a page yields to its event loop here (so it repaints and hears Stop), and
   * throws to stop.
   */
  between?: (step: number) => Promise<void>;
}

export interface InMemoryResult {
  /** delta.safetensors as `sift finetune` writes it. */
  delta: Uint8Array;
  losses: number[];
  evaluations: (Evaluation & { epoch: number })[];
  trainable: number;
  seconds: number;
  tokensPerSecond: number;
  peakBytes: number;
  /** Train / held-out examples and the class names, in label order. */
  split: { train: number; heldOut: number; labels: string[] };
}

/** Trains and returns the delta; the model and the optimizer state are freed whatever happens. */
export async function finetuneInMemory(o: InMemoryFinetune): Promise<InMemoryResult> {
  const ds = parseDataset(o.data.name, o.data.text, o.data.format, { textField: o.data.textField ?? 'text', labelField: o.data.labelField ?? 'label' });
  if (ds.examples.length === 0) throw new DataError(o.data.name, 'the dataset is empty');
  if (ds.labelNames.length < 2) throw new DataError(o.data.name, `classification needs at least 2 classes in '${o.data.labelField ?? 'label'}', found ${ds.labelNames.length}`);
  const { train, heldOut } = splitHeldOut(ds.examples, { fraction: o.heldOut, seed: o.seed });
  if (train.length === 0 || heldOut.length === 0) throw new DataError(o.data.name, `${ds.examples.length} examples are too few to hold out ${o.heldOut} of them`);
  manualSeed(o.seed);
  const tm = taskModel(o.model, Math.max(2, ds.labelNames.length));
  let tuner: FineTuner | null = null;
  try {
    const enc = (xs: typeof train) => encodeExamples(tm.tokenizer, xs, { maxLength: o.maxLength, appendEos: false });
    const [trainEnc, heldEnc] = [enc(train), enc(heldOut)];
    const padId = tm.tokenizer.padId;
    const batchesFor = (epoch: number) => makeBatches(trainEnc, { batchSize: o.batchSize, padId, bucketByLength: true, seed: o.seed * 1000 + epoch });
    const heldBatches = makeBatches(heldEnc, { batchSize: 2 * o.batchSize, padId });
    tuner = createFineTuner(tm.model, { method: 'sift', lr: o.lr, dense: tm.head, density: o.density, targets: tm.siftTargets });
    await assertFiniteWeights(tm.model, o.model.name);
    // Each step's real tokens (the loop counts them the same way), to show tokens/s as it trains.
    const stepTokens = Array.from({ length: o.epochs }, (_, e) => batchesFor(e).map((b) => b.attentionMask.reduce((n, m) => n + m, 0))).flat();
    const total = stepTokens.length;
    let tokens = 0;
    const r = await fitLoop({
      task: tm,
      tuner,
      batchesFor,
      heldOut: heldBatches,
      epochs: o.epochs,
      lr: o.lr,
      startEpoch: 0,
      seed: o.seed,
      divergence: 100,
      quiet: true,
      log: {
        path: '(in memory)',
        write: (rec: Record<string, unknown>) => {
          if (typeof rec.step === 'number' && typeof rec.loss === 'number') {
            tokens += stepTokens[rec.step - 1] ?? 0;
            o.onStep?.(rec.step, total, rec.loss, tokens);
          }
        },
      },
      afterBackward: o.between,
      afterEpoch: (epoch, ev) => o.onEpoch?.(epoch, ev),
    });
    if (!(tuner instanceof SIFT)) throw new Error('finetuneInMemory: the SIFT tuner was not made');
    const delta = await deltaBytes('delta.safetensors', await extractDelta(tuner));
    return {
      delta,
      losses: r.losses,
      evaluations: r.evaluations,
      trainable: tuner.trainableCount(),
      seconds: r.seconds,
      tokensPerSecond: r.tokensPerSecond,
      peakBytes: r.peakBytes,
      split: { train: train.length, heldOut: heldOut.length, labels: ds.labelNames.map(String) },
    };
  } finally {
    tuner?.dispose();
    tm.model.dispose();
  }
}

/** The classification model of `m`, as loadTaskModel builds it from a directory. */
function taskModel(m: InMemoryFinetune['model'], numLabels: number): TaskModel {
  const tokenizer = new BpeTokenizer(m.tokenizer as ConstructorParameters<typeof BpeTokenizer>[0], m.tokenizerConfig ?? {}, `${m.name}/tokenizer_config.json`);
  return buildTaskModel({
    raw: m.config,
    configFile: `${m.name}/config.json`,
    tokenizer,
    task: 'classification',
    numLabels,
    where: m.name,
    load: (model) => model.loadPretrainedWeightsFrom(m.weights, { onNotice: () => {} }),
  });
}
