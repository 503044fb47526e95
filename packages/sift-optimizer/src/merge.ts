import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { type Located, SafetensorsFile, saveSafetensors, saveSafetensorsAsync, weightMap } from '@siftjs/models';
import { noGrad, scatterFlatInto, scope, type Tensor, tensor } from '@siftjs/tensor';
import { DeltaError } from './apply.js';
import type { SparseDelta } from './delta.js';

export interface MergeOptions {
  /** The base checkpoint directory (config.json + model.safetensors, or shards with their index). */
  base: string;
  /** Deltas to add, in order, each with its scale (default 1). */
  deltas: { delta: SparseDelta; scale?: number }[];
  /** The directory to write: a plain Hugging Face checkpoint. */
  out: string;
  /** Fields to set in the written config.json (a new classification head's num_labels, …). */
  config?: Record<string, unknown>;
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
 */
export function mergeInto(opts: MergeOptions): void {
  const merged = mergedTensors(opts);
  try {
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
    mkdirSync(opts.out, { recursive: true });
    await saveSafetensorsAsync(join(opts.out, 'model.safetensors'), merged.tensors, { floatType: merged.floatType, metadata: { format: 'pt' } });
  } finally {
    merged.release();
  }
  finishCheckpoint(opts);
}

/** Every base tensor with the deltas added, and the base's float type; `release` disposes them. */
function mergedTensors({ base, deltas }: MergeOptions): { tensors: Record<string, Tensor>; floatType: 'F32' | 'F16' | 'BF16'; release(): void } {
  if (!existsSync(join(base, 'config.json'))) throw new DeltaError(`merge: ${join(base, 'config.json')} not found (the base must be a checkpoint directory)`);
  const located = weightMap(base);
  const sparseAt = new Map<string, { indices: Int32Array; values: Float32Array; scale: number }[]>();
  const denseAt = new Map<string, { shape: number[]; values: Float32Array; scale: number }>();
  for (const { delta, scale = 1 } of deltas) {
    for (const [name, e] of Object.entries(delta.sparse)) {
      const key = resolve(name, located);
      if (!key) throw new DeltaError(`merge: the base checkpoint ${base} has no tensor for '${name}'`);
      sparseAt.set(key, [...(sparseAt.get(key) ?? []), { indices: e.indices, values: e.values, scale }]);
    }
    for (const [name, e] of Object.entries(delta.dense)) denseAt.set(resolve(name, located) ?? name, { ...e, scale });
  }

  const files = new Map<string, SafetensorsFile>();
  const open = (file: string) => files.get(file) ?? files.set(file, SafetensorsFile.open(file)).get(file)!;
  const tensors: Record<string, Tensor> = {};
  const release = () => {
    for (const t of Object.values(tensors)) t.dispose();
  };
  let floatType: 'F32' | 'F16' | 'BF16' = 'F32';
  try {
    noGrad(() => {
      for (const [key, at] of located) {
        const f = open(at.file);
        const stored = f.info(at.key).dtype;
        if (stored === 'F16' || stored === 'BF16') floatType = stored;
        let t = f.read(at.key);
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
