import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HostTensor, safetensorsBytes, saveSafetensors } from '@siftjs/safetensors';
import type { Module } from '@siftjs/nn';
import type { SparseDelta } from './delta.js';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, linearLayerOf, PEFT_PREFIX, PEFT_VERSION, PeftError, type PeftTuner, type TargetLayer } from './peft-format.js';

export interface PeftExportOptions {
  /** Which PEFT sparse tuner to write (default 'supertuning'). */
  tuner?: PeftTuner;
  /** adapter_config.json's base_model_name_or_path (the base model's directory or Hub id). */
  baseModelNameOrPath?: string | null;
  /** PEFT's task_type: 'CAUSAL_LM' for decoders, 'SEQ_CLS' with a classification head. */
  taskType?: 'CAUSAL_LM' | 'SEQ_CLS' | null;
}

/** Per layer: SIFT's k and how many entries PEFT sizes the layer's values to (the rest are zero increments). */
export interface PeftExportReport {
  tuner: PeftTuner;
  /** Super-Tuning: the sparsity written; PEFT sizes each layer as int(numel · (1 − sparsity)). */
  sparsity?: number;
  /** SHiRA: the r written; PEFT sizes each layer as r · (in + out). */
  r?: number;
  layers: { module: string; k: number; stored: number }[];
  /** True when every layer stores exactly its k (no zero padding). */
  exact: boolean;
}

interface Layer extends TargetLayer {
  numel: number;
  indices: Int32Array;
  values: Float32Array;
}

/**
 * Writes a SIFT delta as a Hugging Face PEFT adapter directory (adapter_config.json + adapter_model.safetensors)
 * that PEFT loads with `PeftModel.from_pretrained(base, dir)`: Super-Tuning (flat int32 indices + values) or SHiRA
 * ([2, K] row/column indices + values). Merging it (PEFT's merge_and_unload) gives our merged weights exactly: both
 * tuners add the values at the indices (scatter_add / a sparse COO add) in float32, as applyDelta does.
 *
 * PEFT does not store k per layer: it sizes every layer's values from one config field (Super-Tuning:
 * int(numel · (1 − sparsity)); SHiRA: r · (in + out)) and load_state_dict refuses any other size. So the field is
 * chosen to give every layer exactly its k when one value can (Super-Tuning's sparsity is searched for that,
 * in float64 as Python computes it); when none can (layers of different shapes at a ceil'd density rarely share
 * one), the smallest setting that gives every layer at least its k is written and each layer's extra entries are
 * zero increments at positions outside SIFT's support, which change no weight. The report says which.
 *
 * The dense tensors (a classification head) go to modules_to_save.
 */
export function exportPeftAdapter(model: Module, delta: SparseDelta, outDir: string, opts: PeftExportOptions = {}): PeftExportReport {
  const { tensors, config, report } = peftAdapter(model, delta, opts);
  mkdirSync(outDir, { recursive: true });
  const weights = join(outDir, ADAPTER_WEIGHTS);
  saveSafetensors(`${weights}.tmp`, tensors, { metadata: { format: 'pt' } });
  renameSync(`${weights}.tmp`, weights);
  const cfg = join(outDir, ADAPTER_CONFIG);
  writeFileSync(`${cfg}.tmp`, config);
  renameSync(`${cfg}.tmp`, cfg);
  return report;
}

/**
 * The two files `exportPeftAdapter` writes, in memory (a browser offers them as downloads): adapter_config.json's
 * text and adapter_model.safetensors' bytes, the same as written.
 */
export async function peftAdapterFiles(model: Module, delta: SparseDelta, opts: PeftExportOptions = {}): Promise<{ config: string; weights: Uint8Array; report: PeftExportReport }> {
  const { tensors, config, report } = peftAdapter(model, delta, opts);
  return { config, weights: await safetensorsBytes(ADAPTER_WEIGHTS, tensors, { metadata: { format: 'pt' } }), report };
}

/** The adapter's tensors, its config.json text and the report. */
function peftAdapter(model: Module, delta: SparseDelta, opts: PeftExportOptions): { tensors: Record<string, HostTensor>; config: string; report: PeftExportReport } {
  const tuner = opts.tuner ?? 'supertuning';
  const names = Object.keys(delta.sparse).sort();
  if (names.length === 0) throw new PeftError('the delta has no sparse tensor to export');
  const layers: Layer[] = names.map((name) => {
    const e = delta.sparse[name];
    const layer = linearLayerOf(model, name);
    if (e.shape.length !== 2 || e.shape[0] !== layer.outFeatures || e.shape[1] !== layer.inFeatures) {
      throw new PeftError(`'${name}' is [${e.shape.join(', ')}] in the delta but the model's Linear is [${layer.outFeatures}, ${layer.inFeatures}]`);
    }
    return { ...layer, numel: layer.outFeatures * layer.inFeatures, indices: e.indices, values: e.values };
  });

  const tensors: Record<string, HostTensor> = {};
  const report: PeftExportReport = { tuner, layers: [], exact: true };
  let tunerConfig: Record<string, unknown>;
  if (tuner === 'supertuning') {
    const { sparsity, counts } = supertuningSparsity(layers.map((l) => ({ numel: l.numel, k: l.indices.length })));
    report.sparsity = sparsity;
    layers.forEach((l, i) => {
      const { indices, values } = padded(l, counts[i]);
      tensors[`${PEFT_PREFIX}${l.module}.supertuning_indices`] = { dtype: 'int32', shape: [counts[i]], data: indices };
      tensors[`${PEFT_PREFIX}${l.module}.supertuning_values`] = { dtype: 'float32', shape: [counts[i]], data: values };
      report.layers.push({ module: l.module, k: l.indices.length, stored: counts[i] });
    });
    tunerConfig = { sparsity, select_top: true, r: null, lora_alpha: null, lora_dropout: 0.0, init_weights: true, save_precomputed_indices: true };
  } else {
    const r = Math.max(...layers.map((l) => Math.ceil(l.indices.length / (l.inFeatures + l.outFeatures))));
    report.r = r;
    for (const l of layers) {
      const count = r * (l.inFeatures + l.outFeatures);
      // PEFT raises on load when r·(in + out) exceeds the layer's size.
      if (count > l.numel) throw new PeftError(`SHiRA cannot hold '${l.module}': r = ${r} (needed by the layer with the most increments per row and column) gives ${count} entries, more than its ${l.numel} weights; export as supertuning instead`);
      const { indices, values } = padded(l, count);
      const rowCol = new Int32Array(2 * count);
      indices.forEach((flat, j) => {
        rowCol[j] = Math.floor(flat / l.inFeatures);
        rowCol[count + j] = flat % l.inFeatures;
      });
      tensors[`${PEFT_PREFIX}${l.module}.shira_indices`] = { dtype: 'int32', shape: [2, count], data: rowCol };
      tensors[`${PEFT_PREFIX}${l.module}.shira_weight`] = { dtype: 'float32', shape: [count], data: values };
      report.layers.push({ module: l.module, k: l.indices.length, stored: count });
    }
    tunerConfig = { r, mask_type: 'random', random_seed: null, fan_in_fan_out: false, init_weights: true };
  }
  report.exact = report.layers.every((l) => l.k === l.stored);

  const dense = Object.keys(delta.dense).sort();
  for (const name of dense) {
    const e = delta.dense[name];
    tensors[`${PEFT_PREFIX}${name}`] = { dtype: 'float32', shape: e.shape, data: e.values };
  }
  const config = {
    peft_type: tuner === 'supertuning' ? 'SUPERTUNING' : 'SHIRA',
    task_type: opts.taskType ?? null,
    base_model_name_or_path: opts.baseModelNameOrPath ?? null,
    revision: null,
    inference_mode: true,
    auto_mapping: null,
    peft_version: PEFT_VERSION,
    target_modules: layers.map((l) => l.module),
    modules_to_save: dense.length ? modulesToSave(delta, dense) : null,
    ...tunerConfig,
  };
  return { tensors, config: `${JSON.stringify(sortKeys(config), null, 2)}\n`, report };
}

/**
 * The sparsity PEFT's Super-Tuning turns into each layer's count as int(numel · (1 − sparsity)) (Python floats:
 * IEEE doubles, as here): one that gives every layer exactly its k when such a value exists, otherwise the one
 * giving every layer at least its k with the fewest extra entries. Among candidates the shortest decimal wins, so
 * the config stays readable.
 */
export function supertuningSparsity(layers: readonly { numel: number; k: number }[]): { sparsity: number; counts: number[] } {
  const countsAt = (s: number) => layers.map((l) => Math.trunc(l.numel * (1 - s)));
  const lo = Math.max(...layers.map((l) => l.k / l.numel));
  const hi = Math.min(...layers.map((l) => (l.k + 1) / l.numel));
  // Candidate keep-fractions u = 1 − s: rounded at every precision around lo and inside [lo, hi).
  const us = new Set<number>();
  for (let p = 1; p <= 17; p++) {
    for (const x of [lo, (lo + hi) / 2]) {
      const step = 10 ** (Math.floor(Math.log10(x)) - p + 1);
      for (const d of [0, 1, 2]) us.add(Math.ceil(x / step) * step + d * step);
    }
  }
  us.add(lo);
  let best: { sparsity: number; counts: number[]; extra: number; len: number } | null = null;
  for (const u of us) {
    for (const s0 of [1 - u, Number((1 - u).toPrecision(15))]) {
      // Walk down a few ulps: 1 − u rounds, and the product with numel rounds again.
      let s = s0;
      for (let step = 0; step < 4; step++, s = nextDown(s)) {
        if (!(s >= 0 && s < 1)) continue;
        const counts = countsAt(s);
        if (counts.some((c, i) => c < layers[i].k)) continue;
        const extra = counts.reduce((n, c, i) => n + c - layers[i].k, 0);
        const len = String(s).length;
        if (!best || extra < best.extra || (extra === best.extra && len < best.len)) best = { sparsity: s, counts, extra, len };
      }
    }
  }
  if (!best) throw new PeftError('no Super-Tuning sparsity gives every layer its increments');
  return { sparsity: best.sparsity, counts: best.counts };
}

function nextDown(x: number): number {
  const b = new Float64Array([x]);
  const i = new BigInt64Array(b.buffer);
  i[0] += x > 0 ? -1n : 1n;
  return b[0];
}

/** SIFT's indices and increments, with zero increments at the first free positions up to `count` (sorted). */
function padded(l: Layer, count: number): { indices: Int32Array; values: Float32Array } {
  if (count === l.indices.length) return { indices: l.indices, values: l.values };
  const taken = new Set(l.indices);
  const extra: number[] = [];
  for (let p = 0; extra.length < count - l.indices.length; p++) if (!taken.has(p)) extra.push(p);
  const all = [...Array.from(l.indices, (idx, j) => [idx, l.values[j]] as const), ...extra.map((idx) => [idx, 0] as const)].sort((a, b) => a[0] - b[0]);
  return { indices: Int32Array.from(all, (x) => x[0]), values: Float32Array.from(all, (x) => x[1]) };
}

/** modules_to_save: the delta's dense patterns (its head), or the modules of its dense tensors. */
function modulesToSave(delta: SparseDelta, dense: string[]): string[] {
  if (delta.metadata.dense.length) return [...delta.metadata.dense];
  return [...new Set(dense.map((n) => n.slice(0, n.lastIndexOf('.'))))];
}

/** As PEFT writes the config: keys sorted (json.dumps(sort_keys=True)). */
function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}
