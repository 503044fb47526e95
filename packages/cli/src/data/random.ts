import { philox } from '@siftjs/tensor';

/**
 * A seeded stream of uniform integers on the project's Philox generator (the seed is the key, `stream` picks an
 * independent counter offset), so data order follows the same seed rules as the tensors. Never Math.random.
 */
export class SeededRandom {
  private readonly lo: number;
  private readonly hi: number;
  private words = new Uint32Array(0);
  private next = 0;

  constructor(
    seed: number | bigint,
    private readonly stream = 0,
  ) {
    [this.lo, this.hi] = philox.splitSeed(seed);
  }

  /** The next uniform 32-bit word. */
  uint32(): number {
    if (this.next >= this.words.length) {
      // fillUint32 always starts at word 0 of the stream: regenerate a longer prefix and carry on where we were.
      const more = new Uint32Array(Math.max(1024, this.words.length * 2));
      philox.fillUint32(more, this.lo, this.hi, this.stream);
      this.words = more;
    }
    return this.words[this.next++];
  }

  /** A uniform integer in [0, n), n ≤ 2^32, without modulo bias (rejects the short top range). */
  below(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`SeededRandom.below: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const w = this.uint32();
      if (w < limit) return w % n;
    }
  }
}
