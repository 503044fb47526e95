import { splitSeed } from './philox.js';

/**
 * The default generator: a 64-bit seed and an offset that advances once per random request. Every backend maps
 * (seed, offset, element index) to the same number (see philox.ts), so one seed gives one stream everywhere.
 */
const DEFAULT_SEED = 0x5eed;

let seedWords: [number, number] = [DEFAULT_SEED, 0];
let offset = 0;

/** Seeds the default generator (like torch.manual_seed). */
export function manualSeed(seed: number | bigint): void {
  seedWords = splitSeed(seed);
  offset = 0;
}

export interface RngState {
  seed: [number, number];
  offset: number;
}

/** The generator's state, to save with a checkpoint so a resumed run draws the same numbers. */
export function getRngState(): RngState {
  return { seed: [...seedWords], offset };
}

export function setRngState(state: RngState): void {
  seedWords = [state.seed[0] >>> 0, state.seed[1] >>> 0];
  offset = state.offset;
}

/** Claims the next stream: (seed, offset) for one request. */
export function nextStream(): { seed: readonly [number, number]; offset: number } {
  return { seed: seedWords, offset: offset++ };
}
