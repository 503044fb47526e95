import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, type Stats, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { bertConfig, ConfigError, gpt2Config, llamaConfig, readConfig } from '@siftjs/models';
import { isPeftAdapterDir } from '@siftjs/sift-optimizer';
import { systemErrorReason, UsageError } from './errors.js';

type RawConfig = Record<string, unknown>;

/**
 * Checks of what a command line names — files, model directories, output directories — made before anything is
 * read or written, so that a mistake is one line naming the flag and the path rather than an error (or a hang)
 * deep inside a library. Each check throws a UsageError.
 */

/** What a path is, when it is not the regular file or directory expected. */
function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'a regular file';
}

/** stat (following links), or undefined where nothing is; other failures (ENOTDIR, EACCES, ELOOP) are the input's. */
function statOf(label: string, path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (e) {
    throw new UsageError(`${label}: ${systemErrorReason(e) ?? (e as Error).message}`);
  }
}

/**
 * A regular file that can be read: not a directory, and not a FIFO, device or socket (reading those can block
 * forever or never end).
 */
export function checkFile(flag: string, path: string): void {
  const label = `${flag} ${path}`;
  const st = statOf(label, path);
  if (!st) throw new UsageError(`${label}: file not found`);
  if (!st.isFile()) throw new UsageError(`${label}: is ${kind(st)}, not a file`);
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    throw new UsageError(`${label}: cannot be read: ${systemErrorReason(e) ?? (e as Error).message}`);
  }
}

/** --delta of eval and generate: a sparse-delta file, or a PEFT adapter directory (its files are checked when read). */
export function checkDelta(flag: string, path: string): void {
  if (!isPeftAdapterDir(path)) checkFile(flag, path);
}

/** The config parsers of the architectures the CLI loads: each checks its fields (see packages/models). */
const ARCHITECTURES: Record<string, (raw: RawConfig, file: string) => unknown> = {
  gpt2: gpt2Config,
  bert: bertConfig,
  roberta: (raw, file) => bertConfig({ pad_token_id: 1, type_vocab_size: 1, ...raw }, file),
  llama: llamaConfig,
};

/** Files a model directory may hold that the loaders read: each must be a regular file if present. */
const MODEL_FILE = /\.(json|safetensors|txt|model)$/;

/**
 * A Hugging Face model directory: a directory whose config.json is a regular file and valid for its architecture
 * (n_head 0 or an unknown activation are caught here, before any weight is allocated), and whose other files the
 * loaders read (tokenizer, weights, shards) are regular files.
 */
export function checkModelDir(flag: string, dir: string): void {
  const label = `${flag} ${dir}`;
  const st = statOf(label, dir);
  if (!st) throw new UsageError(`${label}: model directory not found`);
  if (!st.isDirectory()) throw new UsageError(`${label}: is ${kind(st)}, not a model directory (config.json, model.safetensors, tokenizer.json)`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new UsageError(`${label}: cannot be listed: ${systemErrorReason(e) ?? (e as Error).message}`);
  }
  if (!names.includes('config.json')) throw new UsageError(`${label}: ${join(dir, 'config.json')}: not found (a model directory needs config.json)`);
  for (const name of names.filter((n) => MODEL_FILE.test(n))) {
    const file = join(dir, name);
    const f = statOf(`${flag} ${file}`, file);
    if (!f) throw new UsageError(`${flag} ${file}: a broken symbolic link`);
    if (!f.isFile()) throw new UsageError(`${flag} ${file}: is ${kind(f)}, not a file`);
  }
  for (const file of shardFiles(dir)) {
    const f = statOf(`${flag} ${file}`, file);
    if (f && !f.isFile()) throw new UsageError(`${flag} ${file}: is ${kind(f)}, not a file (named by model.safetensors.index.json)`);
  }
  try {
    const { file, raw } = readConfig(dir);
    ARCHITECTURES[String(raw.model_type)]?.(raw, file);
  } catch (e) {
    throw e instanceof ConfigError ? new UsageError(`${flag} ${e.message}`) : e;
  }
}

/**
 * The shard files a sharded checkpoint's index names (they may lie outside the directory). A missing or malformed
 * index is left to the loader, which names its defect.
 */
function shardFiles(dir: string): string[] {
  const index = join(dir, 'model.safetensors.index.json');
  try {
    const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, unknown> }).weight_map ?? {};
    return [...new Set(Object.values(map).filter((v): v is string => typeof v === 'string'))].map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** The most tokens a model directory's config allows in one sequence, or null where it does not say. */
export function contextLength(dir: string): { tokens: number; field: string } | null {
  const { raw } = readConfig(dir);
  if (typeof raw.n_positions === 'number') return { tokens: raw.n_positions, field: 'n_positions' };
  if (typeof raw.max_position_embeddings === 'number') {
    // RoBERTa numbers positions from pad_token_id + 1, so two of its position embeddings are never a token's.
    const offset = raw.model_type === 'roberta' ? Number(raw.pad_token_id ?? 1) + 1 : 0;
    return { tokens: raw.max_position_embeddings - offset, field: 'max_position_embeddings' };
  }
  return null;
}

/**
 * The `--max-length` to use with this model: a value the user gave must fit the model's context (a longer
 * sequence would fail in the middle of a run); the default is cut to the context where the model's is shorter.
 */
export function fitMaxLength(flag: string, n: number, given: boolean, modelDir: string): number {
  const ctx = contextLength(modelDir);
  if (!ctx || n <= ctx.tokens) return n;
  if (!given) return ctx.tokens;
  throw new UsageError(`${flag} ${n} is more than the ${ctx.tokens} tokens the model takes (${join(modelDir, 'config.json')}: ${ctx.field})`);
}

/** A prompt's tokens and the new ones fit the model's positions (a longer sequence would fail mid-way). */
export function checkPromptFits(promptTokens: number, maxNewTokens: number, modelDir: string): void {
  if (promptTokens === 0) throw new UsageError('--prompt encodes to no tokens: give the text to continue');
  const ctx = contextLength(modelDir);
  if (ctx && promptTokens + maxNewTokens > ctx.tokens) {
    throw new UsageError(`--prompt (${promptTokens} tokens) and --max-new-tokens ${maxNewTokens} exceed the model's ${ctx.tokens} positions (${ctx.field}); shorten one of them`);
  }
}

/**
 * An output directory that can be written: an existing directory in which an entry can be made (and is removed
 * again), or one whose missing levels can be created. `mustNotExist` for commands that write a new directory. The missing levels are created one
 * mkdir at a time and removed again (the command creates them when it writes): a recursive mkdir loops forever
 * where a file system answers ENOENT for a directory that exists (procfs: `--out /proc/x`), and a probe at
 * start-up turns that, a file in the way, or a read-only file system into one line before any work is done.
 */
export function checkOutDir(flag: string, dir: string, { mustNotExist = false } = {}): void {
  const label = `${flag} ${dir}`;
  const st = statOf(label, dir);
  if (st) {
    if (mustNotExist) throw new UsageError(`${label}: already exists; this command writes a new directory`);
    if (!st.isDirectory()) throw new UsageError(`${label}: is ${kind(st)}, not a directory`);
    // Permission bits do not tell (root passes them on procfs and read-only mounts): make an entry and remove it.
    const probe = join(dir, `.sift-probe-${process.pid}`);
    // A process killed between the two steps leaves its probe (removeOrphans clears a dead one's); one of this pid
    // is such a leftover, since this process makes none in parallel.
    if (existsSync(probe)) rmdirSync(probe);
    try {
      mkdirSync(probe);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`${label}: cannot be written: ${code === 'ENOENT' ? 'the file system does not allow new entries (ENOENT)' : (systemErrorReason(e) ?? (e as Error).message)}`);
    }
    rmdirSync(probe);
    return;
  }
  const missing: string[] = [];
  for (let p = resolve(dir); ; p = dirname(p)) {
    const up = statOf(label, p);
    if (up) {
      if (!up.isDirectory()) throw new UsageError(`${label}: ${p} is ${kind(up)}, not a directory`);
      break;
    }
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  const made: string[] = [];
  try {
    for (const p of missing) {
      try {
        mkdirSync(p);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'the file system does not allow it (ENOENT)' : (systemErrorReason(e) ?? (e as Error).message);
        throw new UsageError(`${label}: cannot create the directory ${p}: ${why}`);
      }
      made.push(p);
    }
  } finally {
    for (const p of made.reverse()) rmdirSync(p);
  }
}
