import { join } from 'node:path';
import { isParameter, type Module, parameter } from '@siftjs/nn';
import { GPT2ForSequenceClassification } from '@siftjs/models';
import { SafetensorsFile } from '@siftjs/safetensors';
import { SIFT, type GroupOptions } from '@siftjs/sift-optimizer';
import { noGrad, scatterFlatInto, scope, type Tensor, tensor } from '@siftjs/tensor';
import { relError } from '../support/golden.js';
import { read, values } from '../support/read.js';

/**
 * The golden runs of tests/golden/sift_authors.py (a PyTorch SIFT with one switch per deliberate difference from the
 * authors' code) and our SIFT run over the same checkpoint and batches, with each of those differences modelled
 * from outside the library where a switch asks for it.
 */

export const CHECKPOINT = join(__dirname, '..', 'golden', 'gpt2-tiny-cls');
export type FloatType = 'float32' | 'float64';

export interface Switches {
  k_rule: 'ceil' | 'int_plus_one';
  first_batch: 'trains' | 'discarded';
  write_back: 'immediate' | 'late';
  hook: 'own' | 'lagged';
  increment: 'delta' | 'accumulate';
  no_decay: 'rank' | 'names';
}

export interface GoldenRun {
  switches: Switches;
  /** Targeted weights the run never selected nor trained (the lagged hook's last weight). */
  untrained: string[];
  losses: number[];
  /** Chosen flat indices by targeted weight (absent: never selected). */
  indices: Record<string, number[]>;
  /** Every targeted and dense tensor's final values (sparse: the checkpoint's with the golden values at the
   *  indices; a weight never selected stays the checkpoint's, which the script asserts before writing). */
  weights: Record<string, number[]>;
  /** Late write-back: the stepped sparse parameter whose update never landed. */
  pending: Record<string, number[]>;
}

export interface Golden {
  dtype: FloatType;
  density: number;
  targets: string[];
  dense: string[];
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  batches: { ids: number[]; labels: number[]; shape: [number, number] }[];
  /** The checkpoint's values of every targeted and dense tensor, by name. */
  checkpoint: Record<string, number[]>;
  /** The names of the targeted weights (the 16 projections) and dense tensors. */
  sparseNames: string[];
  denseNames: string[];
  runs: Record<string, GoldenRun>;
}

const arr = (f: SafetensorsFile, key: string) => Array.from(f.readArray(key), Number);

export function readGolden(dtype: FloatType): Golden {
  const file = SafetensorsFile.open(join(__dirname, '..', 'golden', 'sift-authors', `golden-${dtype}.safetensors`));
  const ckpt = SafetensorsFile.open(join(CHECKPOINT, 'model.safetensors'));
  try {
    const m = file.metadata;
    const runsMeta = JSON.parse(m.runs) as Record<string, { switches: Switches; untrained: string[] }>;
    const steps = Number(m.steps);
    const batches = Array.from({ length: steps }, (_, t) => {
      const info = file.info(`batch/${t}/input_ids`);
      return { ids: arr(file, `batch/${t}/input_ids`), labels: arr(file, `batch/${t}/labels`), shape: info.shape as [number, number] };
    });
    const keys = file.keys();
    const sparseNames = [...new Set(keys.filter((k) => k.startsWith('ours/sparse/')).map((k) => k.split('/')[2]))];
    const denseNames = keys.filter((k) => k.startsWith('ours/dense/')).map((k) => k.slice('ours/dense/'.length));
    const checkpoint = Object.fromEntries([...sparseNames, ...denseNames].map((n) => [n, arr(ckpt, n)]));
    const runs: Record<string, GoldenRun> = {};
    for (const [run, meta] of Object.entries(runsMeta)) {
      const g: GoldenRun = { ...meta, losses: arr(file, `${run}/losses`), indices: {}, weights: {}, pending: {} };
      for (const n of sparseNames) {
        const w = checkpoint[n].slice();
        if (keys.includes(`${run}/sparse/${n}/indices`)) {
          const idx = arr(file, `${run}/sparse/${n}/indices`);
          const vals = arr(file, `${run}/sparse/${n}/values`);
          idx.forEach((i, j) => (w[i] = vals[j]));
          g.indices[n] = idx;
          if (keys.includes(`${run}/sparse/${n}/pending`)) g.pending[n] = arr(file, `${run}/sparse/${n}/pending`);
        }
        g.weights[n] = w;
      }
      for (const n of denseNames) g.weights[n] = arr(file, `${run}/dense/${n}`);
      runs[run] = g;
    }
    return {
      dtype,
      density: Number(m.density),
      targets: JSON.parse(m.targets),
      dense: JSON.parse(m.dense),
      lr: Number(m.lr),
      weightDecay: Number(m.weight_decay),
      betas: JSON.parse(m.betas),
      eps: Number(m.eps),
      batches,
      checkpoint,
      sparseNames,
      denseNames,
      runs,
    };
  } finally {
    file.close();
    ckpt.close();
  }
}

/** Every parameter of the model as a float64 copy (the model code promotes its float32 masks to match). */
function toFloat64(model: Module): void {
  for (const [, mod] of model.namedModules()) {
    const fields = mod as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(fields)) {
      if (!isParameter(value)) continue;
      fields[key] = parameter(noGrad(() => value.detach().cast('float64')));
      value.dispose();
    }
  }
}

export function loadModel(dtype: FloatType): GPT2ForSequenceClassification {
  const model = GPT2ForSequenceClassification.fromPretrained(CHECKPOINT, { strict: true });
  if (dtype === 'float64') toFloat64(model);
  return model;
}

/** How our run is set up: our SIFT's own options, and the authors' behaviours modelled around it. */
export interface OurRun {
  density?: number;
  /** Targets (default: the golden's patterns). */
  targets?: string[];
  groups?: GroupOptions[];
  /** Discard the first batch's gradient of the sparse tensors after it selected (the dense ones still step). */
  discardFirstBatch?: boolean;
  /** After each step, put back the weights the step before left (so the next forward sees them one step late). */
  lateWriteBack?: boolean;
}

export interface OurResult {
  losses: number[];
  indices: Record<string, number[]>;
  weights: Record<string, number[]>;
  /** Each sparse tensor's final increment δ and its AdamW step count. */
  delta: Record<string, number[]>;
  steps: Record<string, number>;
}

export async function runOurs(golden: Golden, run: OurRun = {}): Promise<OurResult> {
  const model = loadModel(golden.dtype);
  const sift = new SIFT(model, {
    density: run.density ?? golden.density,
    targets: run.targets ?? golden.targets,
    dense: golden.dense,
    lr: golden.lr,
    betas: golden.betas,
    eps: golden.eps,
    weightDecay: golden.weightDecay,
    groups: run.groups,
  });
  const losses: number[] = [];
  for (const [t, b] of golden.batches.entries()) {
    const ids = tensor(Int32Array.from(b.ids), { shape: b.shape });
    const labels = tensor(Int32Array.from(b.labels));
    const { logits, loss } = model.forward(ids, { labels });
    losses.push(await loss!.item());
    loss!.backward();
    for (const x of [ids, labels, logits, loss!]) x.dispose();
    if (t === 0 && run.discardFirstBatch) for (const s of sift.sparse) s.zeroGrad();
    const before = run.lateWriteBack ? sift.sparse.map((s) => (s.delta ? noGrad(() => s.delta!.clone()) : null)) : [];
    sift.step();
    before.forEach((delta, i) => {
      const s = sift.sparse[i];
      if (!delta) return;
      noGrad(() => scope(() => scatterFlatInto(s.param, s.indices!, s.base!.add(delta).cast(s.param.dtype))));
      delta.dispose();
    });
    sift.zeroGrad();
  }
  const named = Object.fromEntries(model.namedParameters());
  const weights = await read(() => Object.fromEntries([...golden.sparseNames, ...golden.denseNames].map((n) => [n, named[n]])));
  const indices: Record<string, number[]> = {};
  const delta: Record<string, number[]> = {};
  const steps: Record<string, number> = {};
  for (const s of sift.sparse) {
    steps[s.name] = s.step;
    if (!s.indices) continue;
    indices[s.name] = await values(s.indices);
    delta[s.name] = await values(s.delta!);
  }
  sift.dispose();
  model.dispose();
  return { losses, indices, weights: weights as Record<string, number[]>, delta, steps };
}

/** The first batch's gradient of every targeted weight at the checkpoint's values. */
export async function firstGradients(golden: Golden): Promise<Record<string, number[]>> {
  const model = loadModel(golden.dtype);
  const named = Object.fromEntries(model.namedParameters());
  const b = golden.batches[0];
  const ids = tensor(Int32Array.from(b.ids), { shape: b.shape });
  const labels = tensor(Int32Array.from(b.labels));
  const { logits, loss } = model.forward(ids, { labels });
  loss!.backward();
  for (const x of [ids, labels, logits, loss!]) x.dispose();
  const grads = await read(() => Object.fromEntries(golden.sparseNames.map((n) => [n, named[n].grad!])));
  model.zeroGrad();
  model.dispose();
  return grads as Record<string, number[]>;
}

/** The largest relative error over the trained tensors (with the tensor it is in) and over the step losses. */
export function compare(actual: { weights: Record<string, number[]>; losses: number[] }, expected: { weights: Record<string, number[]>; losses: number[] }) {
  let at = '';
  let weights = 0;
  for (const [n, e] of Object.entries(expected.weights)) {
    const r = relError(actual.weights[n], e);
    if (r >= weights) [at, weights] = [n, r];
  }
  const losses = Math.max(...expected.losses.map((l, i) => Math.abs(actual.losses[i] - l) / Math.abs(l)));
  return { weights, at, losses, worst: Math.max(weights, losses) };
}

/** Whether two index lists hold the same components (order aside). */
export function sameSet(a: number[], b: number[]): boolean {
  const inA = new Set(a);
  return inA.size === a.length && a.length === b.length && b.every((x) => inA.has(x));
}
