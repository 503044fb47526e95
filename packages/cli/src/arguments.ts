import { totalmem } from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from './errors.js';

/**
 * How `sift` reads its flags: number parsers that check the range, required options, and the checks of flag
 * combinations that need no file (pretrain's model size, bench's result name). Each failure is one line that
 * names the flag.
 */

export interface Range {
  integer?: boolean;
  /** Exclusive lower bound. */
  gt?: number;
  /** Inclusive lower bound. */
  ge?: number;
  /** Exclusive upper bound. */
  lt?: number;
  /** Inclusive upper bound. */
  le?: number;
}

function describeRange({ gt, ge, lt, le }: Range): string {
  const low = gt ?? ge;
  const high = lt ?? le;
  if (low !== undefined && high !== undefined) return ` in ${gt !== undefined ? '(' : '['}${low}, ${high}${lt !== undefined ? ')' : ']'}`;
  if (low !== undefined) return ` ${gt !== undefined ? '>' : '≥'} ${low}`;
  if (high !== undefined) return ` ${lt !== undefined ? '<' : '≤'} ${high}`;
  return '';
}

function inRange(n: number, { gt, ge, lt, le }: Range): boolean {
  return (gt === undefined || n > gt) && (ge === undefined || n >= ge) && (lt === undefined || n < lt) && (le === undefined || n <= le);
}

/** A number flag's parser: finite, in its range and, for integers, exactly representable (a safe integer). */
export const num =
  (flag: string, range: Range = {}) =>
  (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (range.integer && !Number.isSafeInteger(n)) || !inRange(n, range)) {
      throw new InvalidArgumentError(`${flag} must be ${range.integer ? 'an integer' : 'a number'}${describeRange(range)}, got '${v}'`);
    }
    return n;
  };

/** An integer flag ≥ min. */
export const int = (flag: string, min = 1) => num(flag, { integer: true, ge: min });

/** A share of something, in (0, 1]. */
export const fraction = (flag: string) => num(flag, { gt: 0, le: 1 });

/** A comma-separated list of shares, each in (0, 1]. */
export const fractionList = (flag: string) => (v: string) => v.split(',').map((x) => fraction(`each of ${flag}`)(x));

/** A comma-separated list of non-empty names. */
export const nameList = (flag: string) => (v: string) => {
  const names = v.split(',').map((x) => x.trim());
  if (names.some((x) => x === '')) throw new InvalidArgumentError(`${flag} must be comma-separated names, got '${v}'`);
  return names;
};

const required = new WeakSet<Option>();

/**
 * A required option. Commander's own `requiredOption` is checked before unknown options are, so a typo
 * (`--modle`) would be reported as the missing `--model`; these are checked by `needOptions` afterwards.
 */
export function need(flags: string, description: string): Option {
  const o = new Option(flags, `${description} (required)`);
  required.add(o);
  return o;
}

/** Throws for the first required option of `command` that was not given. */
export function needOptions(command: Command): void {
  for (const o of command.options) {
    if (required.has(o) && command.getOptionValue(o.attributeName()) === undefined) {
      throw new UsageError(`${command.name()}: required option '${o.flags}' not specified`);
    }
  }
}

/** Commander's message for a parse error as our one line: 'sift: ', no 'error: ', no second line. */
export function commanderLine(s: string): string {
  const line = s
    .trim()
    .replace(/^error: /, '')
    // "option '--density <x>' argument '0' is invalid. --density must be…": the parser's sentence says it all.
    .replace(/^option '(--[\w-]+)[^']*' argument '[^']*' is invalid\. (?=\1 )/, '')
    .replace(/^option '(--[\w-]+)[^']*' argument '([^']*)' is invalid\. Allowed choices are (.*)\.$/, "unknown $1 '$2' (one of $3)")
    .replace(/\s*\n\s*/g, ' ');
  return `sift: ${line}`;
}

/** `sift bench --out NAME`: a plain file name under benchmarks/results/ (no path, so nothing lands elsewhere). */
export function checkBenchName(name: string | undefined): void {
  if (name !== undefined && !/^[\w][\w.-]*$/.test(name)) {
    throw new UsageError(`--out '${name}' must be a plain file name (letters, digits, '.', '-', '_'): results are written under benchmarks/results/`);
  }
}

export interface PretrainSize {
  vocabSize: number;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  context: number;
  batchSize: number;
}

/**
 * `sift pretrain`'s shape: the width splits into the heads, and training fits in this machine's memory (checked
 * now, not after the tokenizer has been trained): weights, gradients and AdamW's two moments are 4 floats per
 * parameter, activations about 20 floats per token, layer and width plus the logits.
 */
export function checkPretrainSize(s: PretrainSize, memoryBytes = totalmem()): void {
  if (s.nEmbd % s.nHead !== 0) throw new UsageError(`--width ${s.nEmbd} is not divisible by --heads ${s.nHead}`);
  const d = s.nEmbd;
  const params = (s.vocabSize + s.context) * d + s.nLayer * (12 * d * d + 13 * d) + 2 * d;
  const tokens = s.batchSize * s.context;
  const bytes = 4 * (4 * params + tokens * (20 * s.nLayer * d + 2 * s.vocabSize));
  // One tensor must also stay addressable by the backends' int32 indices.
  const largest = Math.max(s.vocabSize * d, 4 * d * d, tokens * s.vocabSize);
  if (bytes > memoryBytes || largest >= 2 ** 31) {
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
    throw new UsageError(
      `--width ${d}, --layers ${s.nLayer}, --vocab-size ${s.vocabSize}, --context ${s.context} and --batch-size ${s.batchSize} make a model of ` +
        `${params.toExponential(2)} parameters that needs about ${gib(bytes)} to train; this machine has ${gib(memoryBytes)}`,
    );
  }
}
