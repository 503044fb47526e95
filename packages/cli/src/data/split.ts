import type { Example } from './dataset.js';
import { SeededRandom } from './random.js';

/** Stream offsets, one per use, so the same seed gives unrelated draws for shuffling and for splitting. */
const SHUFFLE_STREAM = 1;
const SPLIT_STREAM = 1 << 20;

/** A uniformly random permutation of 0..n-1 (Fisher–Yates), fixed by the seed. */
export function permutation(n: number, seed: number | bigint, stream = SHUFFLE_STREAM): number[] {
  const rng = new SeededRandom(seed, stream);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** A new array holding the items in an order fixed by the seed. */
export function shuffle<T>(items: readonly T[], seed: number | bigint): T[] {
  return permutation(items.length, seed).map((i) => items[i]);
}

export interface SplitOptions {
  /** Share of each class held out, in [0, 1]. */
  fraction: number;
  seed: number | bigint;
}

/**
 * Splits into train and held-out parts, stratified: each class (unlabelled examples count as one class)
 * holds out round(fraction × its size) examples chosen by the seed, so class shares match within one example.
 * Both parts keep the input's order. Each class draws from its own seeded stream, so adding a class leaves the
 * others' split unchanged.
 */
export function splitHeldOut<T extends Pick<Example, 'label'>>(examples: readonly T[], opts: SplitOptions): { train: T[]; heldOut: T[] } {
  const { fraction, seed } = opts;
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`splitHeldOut: fraction must be in [0, 1], got ${fraction}`);
  const byClass = new Map<number, number[]>();
  examples.forEach((e, i) => {
    const k = e.label ?? -1;
    let idx = byClass.get(k);
    if (!idx) byClass.set(k, (idx = []));
    idx.push(i);
  });
  const held = new Uint8Array(examples.length);
  // Classes in id order, each with its own stream: adding a class does not reshuffle the others.
  for (const k of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = byClass.get(k)!;
    const take = Math.round(fraction * idx.length);
    const p = permutation(idx.length, seed, SPLIT_STREAM + k + 1);
    for (let j = 0; j < take; j++) held[idx[p[j]]] = 1;
  }
  const train: T[] = [];
  const heldOut: T[] = [];
  examples.forEach((e, i) => (held[i] ? heldOut : train).push(e));
  return { train, heldOut };
}
