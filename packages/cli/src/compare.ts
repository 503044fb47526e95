import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createFineTuner, type FineTuner, loraRankForBudget, type MethodName, meanShares, type SIFT } from '@siftjs/sift-optimizer';
import { getBackend, manualSeed } from '@siftjs/tensor';
import { makeBatches, type TokenBatch } from './data/batches.js';
import { loadSpamAssassin } from './data/corpora.js';
import { type Dataset, relabel } from './data/dataset.js';
import { encodeExamples } from './data/encode.js';
import { readDataset } from './data/read.js';
import { splitHeldOut } from './data/split.js';
import { loadModelInput } from './inputs.js';
import { useGradientCheckpointing } from './train/gradient-checkpointing.js';
import type { TaskModel } from './model-dir.js';
import { fit } from './train/fit.js';
import { JsonlLog } from './train/log.js';
import { saveFineTune } from './train/save-result.js';
import { gradientConcentration } from './train/concentration.js';
import { writeReport } from './report/report.js';
import type { CompareOptions, MethodResult } from './compare-types.js';

export const COMPARE_DEFAULTS: Omit<CompareOptions, 'model' | 'out'> = {
  methods: ['sift', 'full', 'lora', 'random', 'head'],
  density: 0.02,
  // The bundled GPT-2's attention projections and its token embedding, whose gradient is the sparsest of all
  // (only the rows of tokens in the batch): chosen by measurement, see the README's main-job section.
  targets: ['attn.c_attn', 'attn.c_proj', 'wte'],
  epochs: 2,
  batchSize: 16,
  maxLength: 96,
  trainPerClass: 400,
  heldOutPerClass: 250,
  // Each method's best of the learning rates tried (5e-4…1e-2) on this task; see the README.
  lr: { sift: 1e-2, random: 1e-2, full: 2e-3, lora: 5e-3, head: 1e-2, bitfit: 1e-2 },
  seed: 0,
};

type TaskSplit = { train: Dataset['examples']; heldOut: Dataset['examples']; labelNames: string[] };
type SplitSizes = Pick<CompareOptions, 'trainPerClass' | 'heldOutPerClass' | 'seed'>;

/** A quarter of each class held out by the seed, then the first n per class of each part: balanced and fixed. */
function balancedSplit(ds: Dataset, o: SplitSizes): TaskSplit {
  const { train, heldOut } = splitHeldOut(ds.examples, { fraction: 0.25, seed: o.seed });
  const take = (xs: typeof train, perClass: number) => ds.labelNames.flatMap((_, c) => xs.filter((e) => e.label === c).slice(0, perClass));
  return { train: take(train, o.trainPerClass), heldOut: take(heldOut, o.heldOutPerClass), labelNames: ds.labelNames };
}

/** The main job's task: SpamAssassin spam (both spam groups) against ham (all three ham groups). */
export function spamTask(o: SplitSizes): TaskSplit {
  return balancedSplit(relabel(loadSpamAssassin(), { 'spam-1': 'spam', 'spam-2': 'spam', 'hard-ham-1': 'ham', 'easy-ham-1': 'ham', 'easy-ham-2': 'ham' }), o);
}

/** A labelled file, split the same way. */
export function fileTask(file: string, o: SplitSizes): TaskSplit {
  return balancedSplit(readDataset(file), o);
}

function withTargets(t: TaskModel, targets?: string[]): TaskModel {
  // LoRA keeps the model's linear layers: an embedding is not a layer it can adapt.
  return targets ? { ...t, siftTargets: targets } : t;
}

function tunerFor(method: MethodName, task: TaskModel, o: CompareOptions, siftBudget: number): FineTuner {
  const lr = o.lr[method] ?? 1e-3;
  if (method === 'lora') {
    const rank = loraRankForBudget(task.model, task.loraTargets, siftBudget);
    return createFineTuner(task.model, { method, lr, loraRank: rank, loraAlpha: 2 * rank, targets: task.loraTargets, dense: task.head });
  }
  return createFineTuner(task.model, { method, lr, density: o.density, targets: task.siftTargets, dense: task.head });
}

const LABELS: Record<MethodName, string> = {
  sift: 'SIFT',
  full: 'full fine-tuning',
  lora: 'LoRA (equal params)',
  random: 'random-index sparse',
  bitfit: 'BitFit',
  head: 'head only',
};

/** Fine-tunes the model on the task with every method and writes the table, logs and an HTML report. */
export async function compare(o: CompareOptions): Promise<MethodResult[]> {
  const say = (s: string) => o.quiet || process.stderr.write(`${s}\n`);
  mkdirSync(o.out, { recursive: true });
  const data = o.data ? fileTask(o.data, o) : spamTask(o);
  const probe = withTargets(loadModelInput('--model', o.model, 'classification', data.labelNames.length), o.targets);
  const encode = (xs: typeof data.train) => encodeExamples(probe.tokenizer, xs, { maxLength: o.maxLength });
  const trainEnc = encode(data.train);
  const heldEnc = encode(data.heldOut);
  const padId = probe.tokenizer.padId;
  const batchesFor = (epoch: number): TokenBatch[] => makeBatches(trainEnc, { batchSize: o.batchSize, padId, bucketByLength: true, seed: o.seed * 1000 + epoch });
  const heldOut = makeBatches(heldEnc, { batchSize: 64, padId });
  say(`task: ${data.labelNames.join(' vs ')}; ${data.train.length} training and ${data.heldOut.length} held-out emails, first ${o.maxLength} tokens; backend ${getBackend().info().description}`);

  // SIFT's trainable count sets LoRA's rank (equal trainable parameters).
  const siftBudget = (() => {
    const t = tunerFor('sift', probe, o, 0) as SIFT;
    const k = t.sparse.reduce((n, sp) => n + sp.k, 0);
    t.dispose();
    return k;
  })();

  // Gradient concentration on the first batches: the pretrained model against the same architecture at random init.
  const fractions = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3];
  let concentration: { model: string; fraction: number; share: number }[] = [];
  if (o.analyze ?? true) {
    manualSeed(o.seed);
    const randomTask = withTargets(loadModelInput('--model', o.model, 'classification', data.labelNames.length, { randomInit: true }), o.targets);
    const shares = await gradientConcentration(probe, randomTask, batchesFor(0).slice(0, 4), fractions);
    randomTask.model.dispose();
    const [pre, rnd] = [meanShares(shares.pretrained), meanShares(shares.randomInit)];
    concentration = fractions.flatMap((f) => [
      { model: 'pretrained (bundled)', fraction: f, share: pre[String(f)] },
      { model: 'random init', fraction: f, share: rnd[String(f)] },
    ]);
    say(`gradient share in the top 1%: pretrained ${(100 * pre['0.01']).toFixed(1)}%, random init ${(100 * rnd['0.01']).toFixed(1)}%`);
  }
  probe.model.dispose();

  const results: MethodResult[] = [];
  const log = new JsonlLog(join(o.out, 'log.jsonl'));
  for (const method of o.methods) {
    manualSeed(o.seed);
    const task = withTargets(loadModelInput('--model', o.model, 'classification', data.labelNames.length), o.targets);
    useGradientCheckpointing(task.model, o.gradientCheckpointing);
    const tuner = tunerFor(method, task, o, siftBudget);
    const r = await fit({ task, tuner, batchesFor, heldOut, epochs: o.epochs, lr: o.lr[method] ?? 1e-3, seed: o.seed, log, label: LABELS[method].padEnd(20), quiet: o.quiet });
    const kept = tuner.memoryReport().total;
    const saved = await saveFineTune(task, tuner, join(o.out, method));
    const last = r.evaluations.at(-1)!;
    results.push({
      method,
      label: LABELS[method],
      trainable: tuner.trainableCount(),
      accuracy: last.accuracy ?? NaN,
      heldOutLoss: last.loss,
      keptBytes: kept,
      peakBytes: r.peakBytes,
      savedFile: saved.file,
      savedBytes: saved.bytes,
      seconds: r.seconds,
      tokensPerSecond: r.tokensPerSecond,
      losses: r.losses,
      accuracies: r.evaluations.map((e) => e.accuracy ?? NaN),
    });
    say(`${LABELS[method]}: held-out accuracy ${(100 * (last.accuracy ?? NaN)).toFixed(1)}% in ${r.seconds.toFixed(0)} s`);
    tuner.dispose();
    task.model.dispose();
  }
  await writeReport(join(o.out, 'report.html'), { options: o, results, concentration, labelNames: data.labelNames, train: data.train.length, heldOut: data.heldOut.length });
  return results;
}
