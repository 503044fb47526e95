import { LLAMA_FAMILY, type RawConfig } from '@siftjs/models';
import { checkShardContents, parseShardIndex, SafetensorsError, SafetensorsFile } from '@siftjs/safetensors';

/*
 * A Hugging Face model folder as the page reads it from Blobs (a folder the user picked or dropped, or the bundled
 * model fetched): config.json and the tokenizer's JSON parsed, the weights — model.safetensors, or the shards a
 * model.safetensors.index.json lists — opened header only (SafetensorsFile.fromBlob), so nothing of a weight is read
 * until training loads it, tensor by tensor. Whatever is wrong is a ModelFolderError naming the file and the defect.
 */

export class ModelFolderError extends Error {
  constructor(
    readonly file: string,
    readonly defect: string,
  ) {
    super(`${file}: ${defect}`);
    this.name = 'ModelFolderError';
  }
}

/** The model types the page trains (as classifiers: `sift finetune --task classification` takes these). */
export const PAGE_MODEL_TYPES = ['gpt2', 'bert', 'roberta'] as const;

export interface ModelFiles {
  /** The folder's name (the bundled model's name). */
  name: string;
  config: RawConfig;
  /** tokenizer.json's contents; null for a GPT-2 folder without one (GPT-2's own BPE is used). */
  tokenizer: unknown;
  tokenizerConfig: Record<string, unknown>;
  /** Opened header only; each tensor is read when training loads it. */
  weights: SafetensorsFile[];
  /** What the page shows before anything runs. */
  summary: { architecture: string; modelType: string; layers: number | null; width: number | null; context: number | null; parameters: number; bytes: number; dtypes: string[] };
  /** A digest of config.json and the weights' headers: the same folder picked again gives the same one. */
  fingerprint: string;
}

/** Opens a folder's files, given by name (the folder's top level). */
export async function openModelFiles(name: string, files: ReadonlyMap<string, Blob>): Promise<ModelFiles> {
  const configBlob = files.get('config.json');
  if (!configBlob) throw new ModelFolderError(`${name}/config.json`, `not found (the folder holds ${list(files)})`);
  const configText = await configBlob.text();
  const config = parseJson<RawConfig>(`${name}/config.json`, configText);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ModelFolderError(`${name}/config.json`, 'is not a JSON object');
  const modelType = String(config.model_type ?? '');
  if (!(PAGE_MODEL_TYPES as readonly string[]).includes(modelType)) {
    const why = (LLAMA_FAMILY as readonly string[]).includes(modelType)
      ? `model_type '${modelType}' trains as a causal language model; this page trains classifiers (gpt2, bert, roberta): use \`sift finetune --task causal-lm\``
      : config.model_type === undefined
        ? "has no 'model_type'"
        : `model_type '${modelType}' is not supported (the page trains ${PAGE_MODEL_TYPES.join(', ')})`;
    throw new ModelFolderError(`${name}/config.json`, why);
  }
  const tokBlob = files.get('tokenizer.json');
  if (!tokBlob && modelType !== 'gpt2') throw new ModelFolderError(`${name}/tokenizer.json`, 'not found (the model needs its tokenizer)');
  const tokenizer = tokBlob ? parseJson<unknown>(`${name}/tokenizer.json`, await tokBlob.text()) : null;
  const tokCfgBlob = files.get('tokenizer_config.json');
  const tokenizerConfig = tokCfgBlob ? parseJson<Record<string, unknown>>(`${name}/tokenizer_config.json`, await tokCfgBlob.text()) : {};
  const weights = await openWeights(name, files);
  const summary = summarize(config, modelType, weights);
  const fingerprint = await digest([configText, ...weights.map((w) => `${w.path}:${JSON.stringify(w.keys().map((k) => [k, w.info(k)]))}`)]);
  return { name, config, tokenizer, tokenizerConfig, weights, summary, fingerprint };
}

/** model.safetensors, or every shard of model.safetensors.index.json, cross-checked against the index. */
async function openWeights(name: string, files: ReadonlyMap<string, Blob>): Promise<SafetensorsFile[]> {
  const indexBlob = files.get('model.safetensors.index.json');
  const open = async (file: string, blob: Blob) => {
    try {
      return await SafetensorsFile.fromBlob(`${name}/${file}`, blob);
    } catch (e) {
      if (e instanceof SafetensorsError) throw new ModelFolderError(e.file, e.defect);
      throw e;
    }
  };
  if (indexBlob) {
    const indexName = `${name}/model.safetensors.index.json`;
    let shardOf: Map<string, string>;
    try {
      shardOf = parseShardIndex(indexName, new Uint8Array(await indexBlob.arrayBuffer())).weightMap;
    } catch (e) {
      if (e instanceof SafetensorsError) throw new ModelFolderError(e.file, e.defect);
      throw e;
    }
    const shards = [...new Set(shardOf.values())].sort();
    const opened = new Map<string, SafetensorsFile>();
    for (const shard of shards) {
      const blob = files.get(shard);
      if (!blob) throw new ModelFolderError(`${name}/${shard}`, 'not found (model.safetensors.index.json lists it as a shard)');
      opened.set(shard, await open(shard, blob));
    }
    try {
      checkShardContents(indexName, shardOf, (shard) => opened.get(shard)?.keys() ?? null);
    } catch (e) {
      if (e instanceof SafetensorsError) throw new ModelFolderError(e.file === indexName ? e.file : `${name}/${e.file}`, e.defect);
      throw e;
    }
    return [...opened.values()];
  }
  const single = files.get('model.safetensors');
  if (!single) {
    const others = [...files.keys()].filter((f) => f.endsWith('.safetensors') || f.endsWith('.bin') || f.endsWith('.pt'));
    throw new ModelFolderError(`${name}/model.safetensors`, `not found, nor model.safetensors.index.json${others.length ? ` (the folder has ${others.join(', ')}: the page reads safetensors weights named as Hugging Face names them)` : ''}`);
  }
  return [await open('model.safetensors', single)];
}

function summarize(config: RawConfig, modelType: string, weights: SafetensorsFile[]): ModelFiles['summary'] {
  let parameters = 0;
  let bytes = 0;
  const dtypes = new Set<string>();
  for (const w of weights) {
    for (const k of w.keys()) {
      const t = w.info(k);
      parameters += t.shape.reduce((a, b) => a * b, 1);
      bytes += t.end - t.begin;
      dtypes.add(t.dtype);
    }
  }
  const num = (...keys: string[]) => {
    for (const k of keys) if (typeof config[k] === 'number') return config[k] as number;
    return null;
  };
  const architectures = config.architectures;
  return {
    architecture: Array.isArray(architectures) && typeof architectures[0] === 'string' ? architectures[0] : modelType,
    modelType,
    layers: num('n_layer', 'num_hidden_layers'),
    width: num('n_embd', 'hidden_size'),
    context: num('n_positions', 'max_position_embeddings'),
    parameters,
    bytes,
    dtypes: [...dtypes].sort(),
  };
}

function parseJson<T>(file: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new ModelFolderError(file, `invalid JSON (${(e as Error).message})`);
  }
}

function list(files: ReadonlyMap<string, Blob>): string {
  const names = [...files.keys()];
  return names.length ? names.slice(0, 8).join(', ') + (names.length > 8 ? ', …' : '') : 'no files';
}

async function digest(parts: string[]): Promise<string> {
  const bytes = new TextEncoder().encode(parts.join('\n'));
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}

