import { existsSync } from 'node:fs';
import { mergeInto } from '@siftjs/sift-optimizer';
import { UsageError } from '../errors.js';
import { readDeltaInput } from '../inputs.js';

/** `sift merge`: base checkpoint + sparse delta(s) → a plain Hugging Face checkpoint. */
export function mergeCommand(a: { base: string; delta: string[]; scale: number; out: string }): void {
  if (existsSync(a.out)) throw new UsageError(`${a.out}: already exists; merge writes a new directory`);
  // Each delta is checked against the base (shapes, fingerprint) and the result for NaN and infinities before
  // anything is written; a refusal names the delta file.
  const deltas = a.delta.map((file) => ({ delta: readDeltaInput(file), scale: a.scale, source: file }));
  mergeInto({ base: a.base, deltas, out: a.out });
  process.stdout.write(`merged ${a.delta.length} delta(s) into ${a.out}\n`);
}
