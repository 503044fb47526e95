/**
 * supertuningSparsity against a brute-force search written from PEFT's rule alone: Super-Tuning sizes each layer as
 * int(numel · (1 − sparsity)) in Python floats (IEEE doubles), so over every sparsity with up to five decimals the best
 * one gives each layer at least its k with the fewest extra entries, and among those the shortest decimal. The
 * library's search must do at least as well on both counts.
 */
import { supertuningSparsity } from '@siftjs/sift-optimizer';
import { describe, expect, it } from 'vitest';

type Layer = { numel: number; k: number };

function bruteForce(layers: Layer[]): { extra: number; len: number; sparsity: number } {
  let best = { extra: Infinity, len: Infinity, sparsity: NaN };
  for (let d = 0; d <= 5; d++) {
    const scale = 10 ** d;
    for (let j = 0; j < scale; j++) {
      const s = j / scale;
      const counts = layers.map((l) => Math.trunc(l.numel * (1 - s)));
      if (counts.some((c, i) => c < layers[i].k)) continue;
      const extra = counts.reduce((n, c, i) => n + c - layers[i].k, 0);
      const len = String(s).length;
      if (extra < best.extra || (extra === best.extra && len < best.len)) best = { extra, len, sparsity: s };
    }
  }
  return best;
}

describe('supertuningSparsity', () => {
  const cases: Layer[][] = [
    [{ numel: 100, k: 5 }],
    [{ numel: 12, k: 3 }],
    [{ numel: 12, k: 3 }, { numel: 12, k: 2 }],
    [{ numel: 1000, k: 7 }, { numel: 300, k: 2 }],
    [{ numel: 50, k: 1 }],
    [{ numel: 7, k: 7 }],
    [{ numel: 4096, k: 41 }, { numel: 16384, k: 164 }, { numel: 2048, k: 21 }],
    [{ numel: 768 * 768, k: 4719 }, { numel: 768 * 3072, k: 18875 }],
  ];
  for (const layers of cases) {
    it(`${JSON.stringify(layers)}: every layer gets ≥ k, with no more extra entries and no longer a decimal than any 5-decimal sparsity`, () => {
      const { sparsity, counts } = supertuningSparsity(layers);
      expect(counts).toEqual(layers.map((l) => Math.trunc(l.numel * (1 - sparsity))));
      counts.forEach((c, i) => expect(c).toBeGreaterThanOrEqual(layers[i].k));
      expect(sparsity).toBeGreaterThanOrEqual(0);
      expect(sparsity).toBeLessThan(1);
      const extra = counts.reduce((n, c, i) => n + c - layers[i].k, 0);
      const ref = bruteForce(layers);
      expect(extra).toBeLessThanOrEqual(ref.extra);
      if (extra === ref.extra) expect(String(sparsity).length).toBeLessThanOrEqual(ref.len);
    });
  }

  it('the exact cases the brute force finds: 0.95 for 5 of 100, 0.7 for 3 of 12 (int(12 · 0.3) = 3), 0 for all 7 of 7', () => {
    expect(supertuningSparsity([{ numel: 100, k: 5 }])).toEqual({ sparsity: 0.95, counts: [5] });
    expect(supertuningSparsity([{ numel: 12, k: 3 }])).toEqual({ sparsity: 0.7, counts: [3] });
    expect(supertuningSparsity([{ numel: 7, k: 7 }])).toEqual({ sparsity: 0, counts: [7] });
  });
});
