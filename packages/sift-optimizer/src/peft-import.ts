import { join } from 'node:path';
import { SafetensorsFile } from '@siftjs/safetensors';
import { type LinearLike, LoRALinear, type Module } from '@siftjs/nn';
import { noGrad, tensor } from '@siftjs/tensor';
import { applyDelta } from './apply.js';
import type { DenseEntry, SparseDelta, SparseEntry } from './delta.js';
import { ADAPTER_WEIGHTS, linearLayerOf, moduleAt, PEFT_PREFIX, PeftError, readAdapterConfig, resolveModulePath } from './peft-format.js';

type Arrays = Map<string, { shape: number[]; data: ArrayLike<number> }>;

/** adapter_model.safetensors as arrays, keys without PEFT's `base_model.model.` prefix. */
function readWeights(dir: string): Arrays {
  const file = join(dir, ADAPTER_WEIGHTS);
  const f = SafetensorsFile.open(file);
  try {
    const out: Arrays = new Map();
    for (const key of f.keys()) out.set(key.startsWith(PEFT_PREFIX) ? key.slice(PEFT_PREFIX.length) : key, { shape: [...f.info(key).shape], data: f.readArray(key) });
    return out;
  } finally {
    f.close();
  }
}

function take(w: Arrays, key: string, file: string): { shape: number[]; data: ArrayLike<number> } {
  const v = w.get(key);
  if (!v) throw new PeftError(`${file}: missing '${PEFT_PREFIX}${key}'`);
  w.delete(key);
  return v;
}

/** Flat indices and values sorted by index, duplicates summed (PEFT adds duplicates: scatter_add, a COO sum). */
function sortedEntry(shape: number[], flat: ArrayLike<number>, values: ArrayLike<number>, what: string): SparseEntry {
  const numel = shape[0] * shape[1];
  const order = Array.from({ length: flat.length }, (_, i) => i).sort((a, b) => flat[a] - flat[b]);
  const idx: number[] = [];
  const val: number[] = [];
  for (const j of order) {
    const at = flat[j];
    if (!Number.isInteger(at) || at < 0 || at >= numel) throw new PeftError(`${what}: index ${at} is outside a [${shape.join(', ')}] weight`);
    if (idx.length && idx[idx.length - 1] === at) val[val.length - 1] = Math.fround(val[val.length - 1] + values[j]);
    else {
      idx.push(at);
      val.push(values[j]);
    }
  }
  return { shape, indices: Int32Array.from(idx), values: Float32Array.from(val) };
}

/**
 * A PEFT Super-Tuning or SHiRA adapter directory as a SparseDelta for `model`: the layers' increments at flat
 * indices, checked as PEFT checks them on load (each layer's count is what the config sizes it to; indices inside
 * the weight), plus modules_to_save as dense tensors. A Supra adapter (Super-Tuning with r) folds its LoRA part
 * (alpha/r · B·A) in, as an increment at every index of the layer. The names are the model's parameter names.
 */
export function loadPeftSparseAdapter(model: Module, dir: string): SparseDelta {
  const cfg = readAdapterConfig(dir);
  const file = join(dir, ADAPTER_WEIGHTS);
  const w = readWeights(dir);
  const type = cfg.peft_type;
  if (type !== 'SUPERTUNING' && type !== 'SHIRA') throw new PeftError(`${join(dir, 'adapter_config.json')}: peft_type '${type}' is not a sparse tuner (SUPERTUNING or SHIRA)`);
  const suffix = type === 'SUPERTUNING' ? '.supertuning_values' : '.shira_weight';
  const sparse: Record<string, SparseEntry> = {};
  for (const key of [...w.keys()].filter((k) => k.endsWith(suffix))) {
    const adapterModule = key.slice(0, -suffix.length);
    const module = resolveModulePath(model, adapterModule);
    if (!module) throw new PeftError(`${file}: the model has no module '${adapterModule}'`);
    const layer = linearLayerOf(model, `${module}.weight`);
    const shape = [layer.outFeatures, layer.inFeatures];
    const numel = shape[0] * shape[1];
    const values = take(w, key, file).data;
    const what = `${file}: '${adapterModule}'`;
    let entry: SparseEntry;
    if (type === 'SUPERTUNING') {
      if (cfg.save_precomputed_indices === false) throw new PeftError(`${what}: the adapter was saved without its indices (save_precomputed_indices false); they would have to be recomputed from the base weights' magnitudes, which is not supported`);
      const sparsity = Number(cfg.sparsity ?? 0.99);
      const expected = Math.trunc(numel * (1 - sparsity));
      if (values.length !== expected) throw new PeftError(`${what}: ${values.length} values, but sparsity ${sparsity} sizes this layer to int(${numel} · (1 − ${sparsity})) = ${expected}`);
      const idx = take(w, `${adapterModule}.supertuning_indices`, file);
      if (idx.data.length !== values.length) throw new PeftError(`${what}: ${idx.data.length} indices for ${values.length} values`);
      entry = sortedEntry(shape, idx.data, values, what);
      if (cfg.r !== null && cfg.r !== undefined) entry = withLowRank(entry, w, adapterModule, Number(cfg.r), Number(cfg.lora_alpha ?? 2 * Number(cfg.r)), file);
    } else {
      const r = Number(cfg.r ?? 32);
      if (values.length !== r * (layer.inFeatures + layer.outFeatures)) throw new PeftError(`${what}: ${values.length} values, but r = ${r} sizes this layer to r · (in + out) = ${r * (layer.inFeatures + layer.outFeatures)}`);
      const idx = take(w, `${adapterModule}.shira_indices`, file);
      if (idx.shape.length !== 2 || idx.shape[0] !== 2 || idx.shape[1] !== values.length) throw new PeftError(`${what}: shira_indices is [${idx.shape.join(', ')}], expected [2, ${values.length}]`);
      const n = values.length;
      const flat = Array.from({ length: n }, (_, j) => {
        const [row, col] = [idx.data[j], idx.data[n + j]];
        if (row < 0 || row >= shape[0] || col < 0 || col >= shape[1]) throw new PeftError(`${what}: index (${row}, ${col}) is outside a [${shape.join(', ')}] weight`);
        return row * shape[1] + col;
      });
      entry = sortedEntry(shape, flat, values, what);
    }
    sparse[`${module}.weight`] = entry;
  }
  if (Object.keys(sparse).length === 0) throw new PeftError(`${file}: holds no '${suffix.slice(1)}' tensor`);
  const dense = modulesToSaveEntries(model, w, file);
  return { sparse, dense, metadata: { density: NaN, targets: Object.keys(sparse), dense: Object.keys(dense), selection: `peft:${type.toLowerCase()}`, fingerprint: '', tensorFingerprints: {} } };
}

/** Supra: alpha/r · B·A added to the sparse part, as one increment at every position of the layer. */
function withLowRank(e: SparseEntry, w: Arrays, module: string, r: number, alpha: number, file: string): SparseEntry {
  const [out, inF] = e.shape;
  const a = take(w, `${module}.supertuning_lora_A.weight`, file);
  const b = take(w, `${module}.supertuning_lora_B.weight`, file);
  if (a.shape[0] !== r || a.shape[1] !== inF || b.shape[0] !== out || b.shape[1] !== r) throw new PeftError(`${file}: '${module}' LoRA part is A [${a.shape}] / B [${b.shape}], expected [${r}, ${inF}] / [${out}, ${r}]`);
  // On the host (the adapter is host data, whatever the backend): B·A summed in float64, scaled, stored float32.
  const dense = new Float32Array(out * inF);
  const scale = alpha / r;
  for (let i = 0; i < out; i++) {
    for (let j = 0; j < inF; j++) {
      let acc = 0;
      for (let q = 0; q < r; q++) acc += b.data[i * r + q] * a.data[q * inF + j];
      dense[i * inF + j] = scale * acc;
    }
  }
  e.indices.forEach((idx, j) => (dense[idx] = Math.fround(dense[idx] + e.values[j])));
  return { shape: e.shape, indices: Int32Array.from({ length: out * inF }, (_, i) => i), values: dense };
}

/** modules_to_save tensors (saved whole, under the module's own names) as dense entries of the model. */
function modulesToSaveEntries(model: Module, w: Arrays, file: string): Record<string, DenseEntry> {
  const params = new Map(model.namedParameters());
  const dense: Record<string, DenseEntry> = {};
  for (const [key, v] of w) {
    const dot = key.lastIndexOf('.');
    const module = resolveModulePath(model, key.slice(0, dot));
    const name = module === null ? null : `${module}${key.slice(dot)}`;
    const p = name ? params.get(name) : undefined;
    if (!p || !name) throw new PeftError(`${file}: '${PEFT_PREFIX}${key}' matches no parameter of the model`);
    if (p.shape.length !== v.shape.length || p.shape.some((d, i) => d !== v.shape[i])) throw new PeftError(`${file}: '${key}' is [${v.shape.join(', ')}] but the model's is [${p.shape.join(', ')}]`);
    dense[name] = { shape: v.shape, values: Float32Array.from(v.data) };
  }
  return dense;
}

/**
 * Reads a PEFT LoRA adapter into our LoRA layers: every adapted module of `model` is wrapped in a LoRALinear
 * (packages/nn) holding the adapter's A and B, with PEFT's scaling (lora_alpha / r, or / √r with use_rslora;
 * rank_pattern and alpha_pattern per module, matched as PEFT matches them), and modules_to_save are copied in.
 * Conv1D layers (GPT-2, fan_in_fan_out) are handled as PEFT handles them. Variants that change the math (DoRA,
 * LoRA biases, trained biases) are refused. Returns the wrapped layers by module path.
 */
export function loadPeftLoRA(model: Module, dir: string): Map<string, LoRALinear> {
  const cfg = readAdapterConfig(dir);
  const file = join(dir, ADAPTER_WEIGHTS);
  if (cfg.peft_type !== 'LORA') throw new PeftError(`${join(dir, 'adapter_config.json')}: peft_type '${cfg.peft_type}' is not LORA`);
  const refuse = (field: string, why: string) => {
    throw new PeftError(`${join(dir, 'adapter_config.json')}: ${field} — ${why}; not supported`);
  };
  if (cfg.use_dora) refuse('use_dora', 'DoRA rescales the merged weight by a magnitude vector');
  if (cfg.lora_bias) refuse('lora_bias', 'lora_B carries a bias');
  if (cfg.bias !== undefined && cfg.bias !== 'none') refuse(`bias '${String(cfg.bias)}'`, 'biases were trained');
  if (Array.isArray(cfg.target_parameters) && cfg.target_parameters.length) refuse('target_parameters', 'parameters, not modules, were adapted');
  if (cfg.layer_replication) refuse('layer_replication', 'layers are duplicated');
  const w = readWeights(dir);
  const rankPattern = (cfg.rank_pattern ?? {}) as Record<string, number>;
  const alphaPattern = (cfg.alpha_pattern ?? {}) as Record<string, number>;
  const pattern = (p: Record<string, number>, module: string, fallback: number) => {
    for (const key of Object.keys(p)) if (new RegExp(`^(.*\\.)?(${key})$`).test(module)) return Number(p[key]);
    return fallback;
  };
  const wrapped = new Map<string, LoRALinear>();
  for (const key of [...w.keys()].filter((k) => k.endsWith('.lora_A.weight'))) {
    const adapterModule = key.slice(0, -'.lora_A.weight'.length);
    const a = take(w, key, file);
    const b = take(w, `${adapterModule}.lora_B.weight`, file);
    const path = resolveModulePath(model, adapterModule);
    const target = path === null ? null : moduleAt(model, path);
    if (!path || !target || !('weight' in target)) throw new PeftError(`${file}: the model has no layer '${adapterModule}'`);
    const base = target as LinearLike;
    const r = pattern(rankPattern, adapterModule, Number(cfg.r ?? 8));
    const alpha = pattern(alphaPattern, adapterModule, Number(cfg.lora_alpha ?? 8));
    const scaling = cfg.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
    const [rows, cols] = base.weight.shape;
    const [inF, outF] = base.fanInFanOut ? [rows, cols] : [cols, rows];
    if (a.shape[0] !== r || a.shape[1] !== inF || b.shape[0] !== outF || b.shape[1] !== r) {
      throw new PeftError(`${file}: '${adapterModule}' is A [${a.shape}] / B [${b.shape}]; the layer (in ${inF}, out ${outF}) at rank ${r} needs [${r}, ${inF}] / [${outF}, ${r}]`);
    }
    // LoRALinear scales by alpha/rank: give it the alpha that makes PEFT's scaling.
    const lora = new LoRALinear(base, { rank: r, alpha: scaling * r });
    noGrad(() => {
      for (const [p, v] of [[lora.lora_A.weight, a], [lora.lora_B.weight, b]] as const) {
        const t = tensor(Float32Array.from(v.data), { shape: v.shape }).cast(p.dtype);
        p.copy_(t);
        t.dispose();
      }
    });
    const parent = path.includes('.') ? moduleAt(model, path.slice(0, path.lastIndexOf('.'))) : model;
    (parent as unknown as Record<string, Module>)[path.slice(path.lastIndexOf('.') + 1)] = lora;
    wrapped.set(path, lora);
  }
  if (wrapped.size === 0) throw new PeftError(`${file}: holds no lora_A/lora_B weights`);
  const dense = modulesToSaveEntries(model, w, file);
  const params = new Map(model.namedParameters());
  noGrad(() => {
    for (const [name, e] of Object.entries(dense)) {
      const p = params.get(name)!;
      const t = tensor(e.values, { shape: e.shape }).cast(p.dtype);
      p.copy_(t);
      t.dispose();
    }
  });
  return wrapped;
}

/**
 * Applies a PEFT adapter directory to `model` in place: Super-Tuning and SHiRA through applyDelta (no base
 * fingerprint: PEFT records none), LoRA by wrapping the adapted layers in our LoRA layers.
 */
export async function applyPeftAdapter(model: Module, dir: string): Promise<{ type: string }> {
  const type = readAdapterConfig(dir).peft_type;
  if (type === 'LORA') loadPeftLoRA(model, dir);
  else if (type === 'SUPERTUNING' || type === 'SHIRA') await applyDelta(model, loadPeftSparseAdapter(model, dir), { verifyBase: false });
  else throw new PeftError(`${join(dir, 'adapter_config.json')}: peft_type '${type}' is not supported (SUPERTUNING, SHIRA, LORA)`);
  return { type };
}
