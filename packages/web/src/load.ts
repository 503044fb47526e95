import { type ModelFiles, openModelFiles } from './model/model-files.js';

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return r;
}

/** The bundled model's files (served under /bundled/NAME/), opened as a folder the user picked would be. */
export async function loadBundledModel(name: string): Promise<ModelFiles> {
  const names = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'];
  const blobs = await Promise.all(names.map(async (f) => [f, await (await fetchOk(`bundled/${name}/${f}`)).blob()] as const));
  return openModelFiles(name, new Map(blobs));
}

/** The bundled sample's JSONL text. */
export async function loadBundledData(): Promise<{ name: string; text: string; rows: number }> {
  const name = 'bundled/spam-ham.jsonl';
  const text = await (await fetchOk(name)).text();
  return { name, text, rows: text.split('\n').filter((l) => l.trim() !== '').length };
}
