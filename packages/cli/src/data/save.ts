import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { tokenizerConfigFor, type TokenizerJson } from './bpe.js';

/**
 * Writes a file so readers see the old content or the new, never half of it: the data goes to a temporary file
 * in the same directory (same filesystem, so the rename is atomic), is flushed, then renamed over the target.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    writeFileSync(tmp, data, { flush: true });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Saves tokenizer.json and tokenizer_config.json into dir (created if missing); HfTokenizer.fromDir reads them back. */
export function saveTokenizer(dir: string, json: TokenizerJson, config: Record<string, unknown> = tokenizerConfigFor(json)): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(json));
  writeFileAtomic(join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
}
