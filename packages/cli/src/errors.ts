import { ConfigError, SafetensorsError } from '@siftjs/models';
import { DeltaError, NonFiniteError } from '@siftjs/sift-optimizer';
import { DataError } from './data/errors.js';
import { DivergenceError } from './train/finite.js';

/** A mistake in how the command was called (an unknown backend, a missing option): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Errors that are the user's input, not a bug: printed as one line, exit code 2. */
export function isInputError(e: unknown): e is Error {
  return (
    e instanceof UsageError || e instanceof DataError || e instanceof ConfigError || e instanceof SafetensorsError ||
    // Numbers that cannot train or be saved (NaN weights, a diverging --lr), a delta for another base: the input.
    e instanceof NonFiniteError || e instanceof DivergenceError || e instanceof DeltaError
  );
}
