import { type HostTensor, SafetensorsError, SafetensorsFile, type SaveOptions, safetensorsBytes, saveSafetensors } from '@siftjs/safetensors';
import type { DeltaMetadata, SparseDelta } from './delta.js';
import { describeAt, firstNonFinite, NonFiniteError, type StoredFloat } from './finite.js';

/**
 * The sparse-delta file: safetensors holding, per sparse tensor NAME, `NAME.indices` (I32, ascending) and
 * `NAME.delta` (the increments: F32, or F16/BF16 on request), per dense tensor `NAME.dense` (its values), and in
 * the metadata `format: siftjs-sparse-delta`, the version, the shapes, density, targets, selection and the base
 * fingerprint. Plain safetensors: any reader can open it.
 */
export const DELTA_FORMAT = 'siftjs-sparse-delta';
const VERSION = '1';

export interface SaveDeltaOptions {
  /** How the increments and dense values are stored (default F32: applying reproduces the fine-tune bit for bit). */
  dtype?: 'F32' | 'F16' | 'BF16';
}

/**
 * Writes `delta` to `path` (through a temporary file and a rename: a crash leaves the previous file intact). The
 * delta is host data already, so it is written as it is, without a round trip through the backend: this works
 * the same whichever backend trained it, the asynchronous GPUs included.
 */
export function saveDelta(path: string, delta: SparseDelta, { dtype = 'F32' }: SaveDeltaOptions = {}): void {
  const { tensors, options } = deltaTensors(path, delta, dtype);
  saveSafetensors(path, tensors, options);
}

/**
 * The bytes `saveDelta` writes, in memory (a browser's download); `name` stands for the path in errors. The same
 * checks: nothing non-finite.
 */
export function deltaBytes(name: string, delta: SparseDelta, { dtype = 'F32' }: SaveDeltaOptions = {}): Promise<Uint8Array> {
  const { tensors, options } = deltaTensors(name, delta, dtype);
  return safetensorsBytes(name, tensors, options);
}

/** The delta's tensors and metadata as the file holds them; refuses a non-finite value (naming `path`). */
function deltaTensors(path: string, delta: SparseDelta, dtype: 'F32' | 'F16' | 'BF16'): { tensors: Record<string, HostTensor>; options: SaveOptions } {
  const bad = nonFinite(delta, dtype);
  if (bad) throw new NonFiniteError(`${path}: ${bad}; a delta holds finite numbers only, not saved`);
  const tensors: Record<string, HostTensor> = {};
  const shapes: Record<string, number[]> = {};
  for (const [name, e] of Object.entries(delta.sparse)) {
    tensors[`${name}.indices`] = { dtype: 'int32', shape: [e.indices.length], data: e.indices };
    tensors[`${name}.delta`] = { dtype: 'float32', shape: [e.values.length], data: e.values };
    shapes[name] = e.shape;
  }
  for (const [name, e] of Object.entries(delta.dense)) {
    tensors[`${name}.dense`] = { dtype: 'float32', shape: e.shape, data: e.values };
    shapes[name] = e.shape;
  }
  const m = delta.metadata;
  return {
    tensors,
    options: {
      floatType: dtype,
      metadata: {
        format: DELTA_FORMAT,
        version: VERSION,
        shapes: JSON.stringify(shapes),
        density: String(m.density),
        targets: JSON.stringify(m.targets),
        dense: JSON.stringify(m.dense),
        selection: m.selection,
        fingerprint: m.fingerprint,
        tensor_fingerprints: JSON.stringify(m.tensorFingerprints),
      },
    },
  };
}

/** The first NaN or infinity among a delta's increments and dense values (as stored in `stored`), described; null when all are finite. */
function nonFinite(delta: SparseDelta, stored?: StoredFloat): string | null {
  for (const [name, e] of Object.entries(delta.sparse)) {
    const at = firstNonFinite(e.values, stored);
    if (at >= 0) return `'${name}.delta' holds ${describeAt(e.values, at, [e.values.length], stored)}`;
  }
  for (const [name, e] of Object.entries(delta.dense)) {
    const at = firstNonFinite(e.values, stored);
    if (at >= 0) return `'${name}.dense' holds ${describeAt(e.values, at, e.shape, stored)}`;
  }
  return null;
}

function json<T>(path: string, meta: Record<string, string>, key: string): T {
  const text = meta[key];
  if (text === undefined) throw new SafetensorsError(path, `sparse delta metadata lacks '${key}'`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new SafetensorsError(path, `sparse delta metadata '${key}' is not valid JSON`);
  }
}

/** Reads a delta written by `saveDelta`, checking its structure: every defect names the file and what is wrong. */
export function loadDelta(path: string): SparseDelta {
  const f = SafetensorsFile.open(path);
  try {
    const meta = f.metadata;
    if (meta.format !== DELTA_FORMAT) throw new SafetensorsError(path, `not a sparse delta (metadata format is '${meta.format ?? 'absent'}', expected '${DELTA_FORMAT}')`);
    if (meta.version !== VERSION) throw new SafetensorsError(path, `sparse delta version '${meta.version}' is not supported (this reader knows ${VERSION})`);
    const shapes = json<Record<string, number[]>>(path, meta, 'shapes');
    const delta: SparseDelta = {
      sparse: {},
      dense: {},
      metadata: {
        density: Number(meta.density),
        targets: json(path, meta, 'targets'),
        dense: json(path, meta, 'dense'),
        selection: meta.selection ?? 'first-batch',
        fingerprint: meta.fingerprint ?? '',
        tensorFingerprints: json(path, meta, 'tensor_fingerprints'),
      },
    };
    for (const key of f.keys()) {
      const dot = key.lastIndexOf('.');
      const name = key.slice(0, dot);
      const kind = key.slice(dot + 1);
      const shape = shapes[name];
      if (!shape) throw new SafetensorsError(path, `tensor '${key}' has no shape in the metadata`);
      const numel = shape.reduce((a, b) => a * b, 1);
      // Indices are int32, increments and dense values floats: any other stored dtype is not a delta this wrote.
      const stored = f.info(key).dtype;
      const allowed = kind === 'indices' ? ['I32'] : ['F32', 'F16', 'BF16'];
      if ((kind === 'indices' || kind === 'delta' || kind === 'dense') && !allowed.includes(stored)) {
        throw new SafetensorsError(path, `'${key}' is stored as ${stored}; a sparse delta stores ${kind === 'indices' ? 'indices as I32' : 'values as F32, F16 or BF16'}`);
      }
      const values = f.readArray(key);
      if (kind === 'dense') {
        if (values.length !== numel) throw new SafetensorsError(path, `'${key}' has ${values.length} values for shape [${shape.join(', ')}]`);
        delta.dense[name] = { shape, values: Float32Array.from(values) };
      } else if (kind === 'indices' || kind === 'delta') {
        const e = (delta.sparse[name] ??= { shape, indices: new Int32Array(0), values: new Float32Array(0) });
        if (kind === 'indices') e.indices = Int32Array.from(values);
        else e.values = Float32Array.from(values);
      } else {
        throw new SafetensorsError(path, `unexpected tensor '${key}' (expected NAME.indices, NAME.delta or NAME.dense)`);
      }
    }
    for (const [name, e] of Object.entries(delta.sparse)) {
      const numel = e.shape.reduce((a, b) => a * b, 1);
      if (e.indices.length !== e.values.length) {
        throw new SafetensorsError(path, `'${name}' has ${e.indices.length} indices but ${e.values.length} increments`);
      }
      for (let i = 0; i < e.indices.length; i++) {
        const at = e.indices[i];
        if (at < 0 || at >= numel) throw new SafetensorsError(path, `'${name}.indices'[${i}] = ${at} is outside a tensor of ${numel} elements`);
        if (i > 0 && at <= e.indices[i - 1]) throw new SafetensorsError(path, `'${name}.indices' is not strictly ascending at position ${i}`);
      }
    }
    const bad = nonFinite(delta);
    if (bad) throw new SafetensorsError(path, `${bad}; a delta holds finite numbers only`);
    return delta;
  } finally {
    f.close();
  }
}

export type { DeltaMetadata };
