import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { type Located, SafetensorsFile, saveSafetensors, saveSafetensorsAsync, weightMap } from '@siftjs/safetensors';
import { fmtShape, noGrad, scatterFlatInto, scope, type Tensor, type TypedArray, tensor } from '@siftjs/tensor';
import { DeltaError } from './apply.js';
import { combinedFingerprintBytes, type SparseDelta, tensorFingerprintBytes } from './delta.js';
import { describeAt, firstNonFinite, NonFiniteError, type StoredFloat } from './finite.js';

export interface MergeOptions {
  /** The base checkpoint directory (config.json + model.safetensors, or shards with their index). */
  base: string;
  /** Deltas to add, in order, each with its scale (default 1) and where it came from (a file name, for messages). */
  deltas: { delta: SparseDelta; scale?: number; source?: string }[];
  /** The directory to write: a plain Hugging Face checkpoint. */
  out: string;
  /** Fields to set in the written config.json (a new classification head's num_labels, …). */
  config?: Record<string, unknown>;
  /**
   * Check that every delta was made from this base before anything is written (default true): each tensor's
   * shape, and the fingerprint of the base values at the delta's indices (what `applyDelta` checks on a model).
   */
  verifyBase?: boolean;
}

/**
 * A delta's names are the fine-tuned model's (with a task model's prefix, like 'transformer.' or 'bert.'); the
 * base may be saved from the bare model. Find the checkpoint name for one delta name.
 */
function resolve(name: string, names: Map<string, Located>): string | null {
  if (names.has(name)) return name;
  for (const k of names.keys()) if (name.endsWith(`.${k}`) || k.endsWith(`.${name}`)) return k;
  return null;
}

/**
 * Writes base + deltas as a plain checkpoint any Hugging Face loader reads: config.json (with `config` merged in),
 * the base's other files (tokenizer, generation config) copied, and one model.safetensors holding every base
 * tensor, the increments added in float32 exactly as `applyDelta` adds them, stored in the base's float type
 * (F32, F16 or BF16), plus any dense tensor the base lacks (a new head). Each file is written then renamed.
 * Refused before anything is written: a delta made from another base (DeltaError: shapes, fingerprint), and a
 * NaN or an infinity in the base or in the merged weights as they would be stored (NonFiniteError).
 */
export function mergeInto(opts: MergeOptions): void {
  const merged = mergedTensors(opts);
  try {
    for (const [name, t] of Object.entries(merged.tensors)) assertStorable(name, t, t.toArraySync(), merged.floatType);
    mkdirSync(opts.out, { recursive: true });
    saveSafetensors(join(opts.out, 'model.safetensors'), merged.tensors, { floatType: merged.floatType, metadata: { format: 'pt' } });
  } finally {
    merged.release();
  }
  finishCheckpoint(opts);
}

/** `mergeInto` for a default backend that reads asynchronously (WebGPU): the same files, saved with awaited reads. */
export async function mergeIntoAsync(opts: MergeOptions): Promise<void> {
  const merged = mergedTensors(opts);
  try {
    for (const [name, t] of Object.entries(merged.tensors)) assertStorable(name, t, await t.toArray(), merged.floatType);
    mkdirSync(opts.out, { recursive: true });
    await saveSafetensorsAsync(join(opts.out, 'model.safetensors'), merged.tensors, { floatType: merged.floatType, metadata: { format: 'pt' } });
  } finally {
    merged.release();
  }
  finishCheckpoint(opts);
}

/** The type a tensor is stored in by a save with `floatType` (null: not a float), as saveSafetensors chooses it. */
function storedType(t: Tensor, floatType: StoredFloat): StoredFloat | 'F64' | null {
  if (t.dtype === 'float32') return floatType;
  if (t.dtype === 'float64') return floatType === 'F32' ? 'F64' : floatType;
  return null;
}

/** Refuses a merged tensor holding a NaN or an infinity once stored (a finite float32 can overflow F16). */
function assertStorable(name: string, t: Tensor, values: TypedArray, floatType: StoredFloat): void {
  const type = storedType(t, floatType);
  if (type === null) return;
  const stored = type === 'F64' ? undefined : type;
  const at = firstNonFinite(values, stored);
  if (at >= 0) throw new NonFiniteError(`merge: '${name}' would hold ${describeAt(values, at, t.shape, stored)} in the merged checkpoint; nothing written`);
}

const sha256 = (parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

interface SparseAt {
  /** Which delta, and its name for the tensor (its fingerprint is over that name). */
  delta: number;
  name: string;
  shape: number[];
  indices: Int32Array;
  values: Float32Array;
  scale: number;
}

/** Every base tensor with the deltas added, and the base's float type; `release` disposes them. */
function mergedTensors({ base, deltas, verifyBase = true }: MergeOptions): { tensors: Record<string, Tensor>; floatType: StoredFloat; release(): void } {
  if (!existsSync(join(base, 'config.json'))) throw new DeltaError(`merge: ${join(base, 'config.json')} not found (the base must be a checkpoint directory)`);
  const located = weightMap(base);
  const files = new Map<string, SafetensorsFile>();
  const open = (file: string) => files.get(file) ?? files.set(file, SafetensorsFile.open(file)).get(file)!;
  const tensors: Record<string, Tensor> = {};
  const release = () => {
    for (const t of Object.values(tensors)) t.dispose();
  };
  const label = (i: number) => deltas[i].source ?? `delta ${i + 1}`;
  let floatType: StoredFloat = 'F32';
  try {
    // Names and shapes first, from the headers alone: a delta for another model is refused before any read.
    const baseShape = (key: string) => {
      const at = located.get(key) as Located;
      return open(at.file).info(at.key).shape;
    };
    const sparseAt = new Map<string, SparseAt[]>();
    const denseAt = new Map<string, { shape: number[]; values: Float32Array; scale: number }>();
    deltas.forEach(({ delta, scale = 1 }, i) => {
      const mismatch = (name: string, shape: readonly number[], key: string) =>
        new DeltaError(`merge: ${label(i)}: '${name}' is ${fmtShape(shape)} in the delta but ${fmtShape(baseShape(key))} in ${base}; the delta was made from another model`);
      for (const [name, e] of Object.entries(delta.sparse)) {
        const key = resolve(name, located);
        if (!key) throw new DeltaError(`merge: ${label(i)}: the base checkpoint ${base} has no tensor for '${name}'`);
        if (!sameShape(e.shape, baseShape(key))) throw mismatch(name, e.shape, key);
        sparseAt.set(key, [...(sparseAt.get(key) ?? []), { delta: i, name, shape: e.shape, indices: e.indices, values: e.values, scale }]);
      }
      for (const [name, e] of Object.entries(delta.dense)) {
        const key = resolve(name, located);
        if (key && !sameShape(e.shape, baseShape(key))) throw mismatch(name, e.shape, key);
        denseAt.set(key ?? name, { ...e, scale });
      }
    });

    // Then tensor by tensor: the base values (finite, and the ones each delta was made from), plus the increments.
    const fingerprints = deltas.map((): Record<string, string> => ({}));
    noGrad(() => {
      for (const [key, at] of located) {
        const f = open(at.file);
        const { dtype: stored, shape } = f.info(at.key);
        if (stored === 'F16' || stored === 'BF16') floatType = stored;
        const values = f.readArray(at.key);
        const bad = firstNonFinite(values);
        if (bad >= 0) throw new NonFiniteError(`merge: ${at.file}: '${at.key}' holds ${describeAt(values, bad, shape)}; the base must be finite`);
        for (const s of sparseAt.get(key) ?? []) {
          if (!verifyBase) continue;
          const digest = sha256(tensorFingerprintBytes(s.name, s.shape, s.indices, Float32Array.from(s.indices, (j) => values[j])));
          const expected = deltas[s.delta].delta.metadata.tensorFingerprints[s.name];
          if (expected !== undefined && digest.slice(0, 16) !== expected) {
            throw new DeltaError(`merge: ${label(s.delta)}: was made from another base than ${base} ('${s.name}' differs there: fingerprint ${digest.slice(0, 16)}, expected ${expected})`);
          }
          fingerprints[s.delta][s.name] = digest;
        }
        let t = tensor(values, { shape });
        for (const s of sparseAt.get(key) ?? []) {
          scope(() => {
            const idx = tensor(s.indices, { dtype: 'int32' });
            const inc = tensor(s.values).cast(t.dtype);
            scatterFlatInto(t, idx, t.gatherFlat(idx).add(s.scale === 1 ? inc : inc.mul(s.scale)));
          });
        }
        const d = denseAt.get(key);
        if (d) {
          const v = tensor(d.values, { shape: t.shape }).cast(t.dtype);
          const next = d.scale === 1 ? v : t.add(v.sub(t).mul(d.scale));
          t.dispose();
          t = next;
          denseAt.delete(key);
        }
        tensors[key] = t;
      }
      for (const [name, d] of denseAt) tensors[name] = tensor(d.values, { shape: d.shape });
    });
    if (verifyBase) {
      deltas.forEach(({ delta }, i) => {
        const expected = delta.metadata.fingerprint;
        if (expected && sha256(combinedFingerprintBytes(fingerprints[i])) !== expected) {
          throw new DeltaError(`merge: ${label(i)}: was made from another base than ${base} (fingerprint mismatch)`);
        }
      });
    }
  } catch (e) {
    release();
    throw e;
  } finally {
    for (const f of files.values()) f.close();
  }
  return { tensors, floatType, release };
}

/** config.json (with `config` merged in) and the base's other files, each written then renamed. */
function finishCheckpoint({ base, out, config }: MergeOptions): void {
  const cfg = { ...JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')), ...config };
  writeFileSync(join(out, 'config.json.tmp'), `${JSON.stringify(cfg, null, 2)}\n`);
  renameSync(join(out, 'config.json.tmp'), join(out, 'config.json'));
  if (resolvePath(base) === resolvePath(out)) return;
  for (const file of readdirSync(base)) {
    const from = join(base, file);
    if (!statSync(from).isFile() || file === 'config.json' || file.startsWith('model.safetensors') || file.endsWith('.safetensors')) continue;
    copyFileSync(from, join(out, `${file}.tmp`));
    renameSync(join(out, `${file}.tmp`), join(out, file));
  }
}
