import { CheckpointError, ConfigError } from '@siftjs/models';
import { SafetensorsError } from '@siftjs/safetensors';
import { DeltaError, NonFiniteError, PeftError } from '@siftjs/sift-optimizer';
import { CsvSyntaxError } from './data/csv.js';
import { DataError } from './data/errors.js';
import { DivergenceError } from './train/finite.js';

/** A mistake in how the command was called (an unknown backend, a flag out of range, a bad file): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What an operating-system error code means to someone who named the path, in a few words. */
const ERRNO: Record<string, string> = {
  ENOENT: 'not found',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory, not a file',
  EEXIST: 'already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'on a read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
  ENXIO: 'no such device (a FIFO or socket without a peer?)',
  EMFILE: 'too many open files',
  EFBIG: 'the file is too large',
  EINVAL: 'not valid here',
  EBUSY: 'busy',
};

function oneLine(s: string): string {
  // Messages quoting JSON.parse, fs or another tool may hold newlines; the promise is one line.
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** A Node.js system error (fs, child_process) with its code, and the path it concerned when there is one. */
function systemError(e: unknown): { code: string; path?: string; syscall?: string } | null {
  if (!(e instanceof Error)) return null;
  const { code, path, syscall } = e as NodeJS.ErrnoException;
  return typeof code === 'string' && code in ERRNO ? { code, path, syscall } : null;
}

/** An operating-system error as a few words and its code ("not found (ENOENT)"), or null for any other error. */
export function systemErrorReason(e: unknown): string | null {
  const sys = systemError(e);
  return sys ? `${ERRNO[sys.code]} (${sys.code})` : null;
}

/**
 * The one line to print for an error that is the user's input (a flag, a file, a directory, the environment) and
 * not a bug: the typed errors of the data reader, the config and safetensors readers and the delta code, and
 * operating-system errors about a path. Anything else is a bug and returns null (the caller lets it surface with
 * its stack trace). Errors that are input only in context (a ShapeError from a delta the user named) are turned
 * into UsageErrors where that context is known: see `asInput` in inputs.ts.
 */
export function inputErrorLine(e: unknown): string | null {
  if (e instanceof UsageError || e instanceof DataError || e instanceof ConfigError || e instanceof SafetensorsError || e instanceof DeltaError) return oneLine(e.message);
  if (e instanceof CheckpointError || e instanceof PeftError) return oneLine(e.message);
  // Numbers that cannot be trained on or saved (NaN weights, a diverging --lr): the input's.
  if (e instanceof NonFiniteError || e instanceof DivergenceError) return oneLine(e.message);
  if (e instanceof CsvSyntaxError) return oneLine(e.message);
  const sys = systemError(e);
  if (sys) return oneLine(`${sys.path ?? sys.syscall ?? 'sift'}: ${ERRNO[sys.code]} (${sys.code}${sys.path && sys.syscall ? `, ${sys.syscall}` : ''})`);
  if (e instanceof RangeError && (e as NodeJS.ErrnoException).code === 'ERR_FS_FILE_TOO_LARGE') return oneLine(e.message);
  return null;
}

/** Errors that are the user's input, not a bug: printed as one line, exit code 2. */
export function isInputError(e: unknown): e is Error {
  return inputErrorLine(e) !== null;
}
