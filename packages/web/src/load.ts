import type { RawConfig } from '@siftjs/models';
import { SafetensorsFile } from '@siftjs/safetensors';

/** The bundled model as the page holds it: config, weights (opened from their bytes) and tokenizer files. */
export interface LoadedModel {
  name: string;
  config: RawConfig;
  weights: SafetensorsFile;
  tokenizer: unknown;
  tokenizerConfig: Record<string, unknown>;
  /** What the page shows before anything runs. */
  bytes: number;
  parameters: number;
  dtypes: string[];
}

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return r;
}

async function json<T>(url: string): Promise<T> {
  const text = await (await fetchOk(url)).text();
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${url}: invalid JSON (${(e as Error).message})`);
  }
}

/** Fetches the bundled model's files (served under /bundled/NAME/). */
export async function loadBundledModel(name: string): Promise<LoadedModel> {
  const base = `bundled/${name}`;
  const [config, tokenizer, tokenizerConfig, weightBytes] = await Promise.all([
    json<RawConfig>(`${base}/config.json`),
    json<unknown>(`${base}/tokenizer.json`),
    json<Record<string, unknown>>(`${base}/tokenizer_config.json`),
    fetchOk(`${base}/model.safetensors`).then(async (r) => new Uint8Array(await r.arrayBuffer())),
  ]);
  const weights = SafetensorsFile.fromBytes(`${base}/model.safetensors`, weightBytes);
  let parameters = 0;
  const dtypes = new Set<string>();
  for (const k of weights.keys()) {
    const t = weights.info(k);
    parameters += t.shape.reduce((a, b) => a * b, 1);
    dtypes.add(t.dtype);
  }
  return { name, config, weights, tokenizer, tokenizerConfig, bytes: weightBytes.length, parameters, dtypes: [...dtypes] };
}

/** The bundled sample's JSONL text. */
export async function loadBundledData(): Promise<{ name: string; text: string; rows: number }> {
  const name = 'bundled/spam-ham.jsonl';
  const text = await (await fetchOk(name)).text();
  return { name, text, rows: text.split('\n').filter((l) => l.trim() !== '').length };
}
