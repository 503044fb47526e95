import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A config.json problem: names the file and what is wrong with it. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly defect: string,
  ) {
    super(`${file}: ${defect}`);
    this.name = 'ConfigError';
  }
}

export type RawConfig = Record<string, unknown>;

/** Reads `dir/config.json` (Hugging Face's format). */
export function readConfig(dir: string): { file: string; raw: RawConfig } {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(file, 'not found (a model directory needs config.json)');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, `invalid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(file, 'is not a JSON object');
  return { file, raw: raw as RawConfig };
}

/** A required positive integer field. */
export function intField(raw: RawConfig, name: string, file: string, fallback?: number): number {
  const v = raw[name] ?? fallback;
  if (v === undefined) throw new ConfigError(file, `missing field '${name}'`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ConfigError(file, `field '${name}' must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

/** A required size (a width, a head count, a vocabulary): a positive integer — 0 would divide by zero later. */
export function sizeField(raw: RawConfig, name: string, file: string, fallback?: number): number {
  const v = intField(raw, name, file, fallback);
  if (v === 0) throw new ConfigError(file, `field '${name}' must be a positive integer, got 0`);
  return v;
}

export function numberField(raw: RawConfig, name: string, file: string, fallback?: number): number {
  const v = raw[name] ?? fallback;
  if (v === undefined) throw new ConfigError(file, `missing field '${name}'`);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(file, `field '${name}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function stringField(raw: RawConfig, name: string, file: string, fallback?: string): string {
  const v = raw[name] ?? fallback;
  if (v === undefined) throw new ConfigError(file, `missing field '${name}'`);
  if (typeof v !== 'string') throw new ConfigError(file, `field '${name}' must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Refuses a config.json of another family rather than building the wrong architecture from it (a Mistral
 * checkpoint read as LLaMA loses its sliding window without a word). A config without model_type is let through.
 */
export function checkModelType(raw: RawConfig, file: string, accepted: readonly string[], cls: string): void {
  const t = raw.model_type;
  if (t === undefined || (typeof t === 'string' && accepted.includes(t))) return;
  throw new ConfigError(file, `model_type ${JSON.stringify(t)} is not ${accepted.map((a) => `'${a}'`).join(' or ')}, so ${cls} cannot load it (AutoModel and its kin pick the class from model_type)`);
}
