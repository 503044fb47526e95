import { noGrad, ones, rand, scatterFlatInto, type Tensor, topkAbs, zeros } from '@siftjs/tensor';

/**
 * How the k components of each targeted tensor are chosen.
 * - `'first-batch'` (the paper): top-k |G| of the first gradient, which also trains.
 * - `{ accumulate: n }`: top-k |ΣG| over the first n backward passes (the gradient of a larger batch).
 * - `{ fisher: n }`: top-k Σg² over the first n backward passes (the empirical Fisher diagonal).
 * - `'weight-magnitude'`: top-k |W| of the pretrained weight, chosen before training.
 * - `'random'`: k distinct components uniformly at random from the seeded generator (the paper's ablation).
 */
export type Selection = 'first-batch' | { accumulate: number } | { fisher: number } | 'weight-magnitude' | 'random';

/** How many backward passes a gradient-based selection reads (0: chosen before training). */
export function selectionPasses(s: Selection): number {
  if (s === 'first-batch') return 1;
  if (s === 'weight-magnitude' || s === 'random') return 0;
  const n = 'accumulate' in s ? s.accumulate : s.fisher;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`SIFT: selection needs a whole number of passes ≥ 1, got ${n}`);
  return n;
}

export function describeSelection(s: Selection): string {
  return typeof s === 'string' ? s : 'accumulate' in s ? `accumulate:${s.accumulate}` : `fisher:${s.fisher}`;
}

/** Parses `describeSelection`'s output (saved in states and delta metadata). */
export function parseSelection(text: string): Selection {
  if (text === 'first-batch' || text === 'weight-magnitude' || text === 'random') return text;
  const m = /^(accumulate|fisher):(\d+)$/.exec(text);
  if (!m) throw new Error(`SIFT: unknown selection '${text}'`);
  return m[1] === 'accumulate' ? { accumulate: Number(m[2]) } : { fisher: Number(m[2]) };
}

/**
 * The k flat indices of largest |score| (ties: lowest index, `topkAbs`'s contract), returned in ascending order.
 * Sorting is done on the device: a 0/1 mask holding ones at the chosen positions has k equal maxima, which
 * `topkAbs` returns lowest index first — so no index is read back to the host.
 */
export function topkSortedIndices(score: Tensor, k: number): Tensor {
  return noGrad(() => {
    const { values, indices } = topkAbs(score, k);
    values.dispose();
    const mask = zeros([score.size], { dtype: score.dtype === 'float64' ? 'float64' : 'float32' });
    const one = ones([k], { dtype: mask.dtype });
    scatterFlatInto(mask, indices, one);
    indices.dispose();
    one.dispose();
    const sorted = topkAbs(mask, k);
    mask.dispose();
    sorted.values.dispose();
    return sorted.indices;
  });
}

/** Indices chosen without a gradient, for `'weight-magnitude'` and `'random'`. */
export function selectWithoutGradient(selection: 'weight-magnitude' | 'random', weight: Tensor, k: number): Tensor {
  return noGrad(() => {
    if (selection === 'weight-magnitude') return topkSortedIndices(weight, k);
    // Uniform scores in [1, 2): every subset of size k is equally likely to hold the k largest.
    const scores = rand([weight.size], { low: 1, high: 2 });
    const idx = topkSortedIndices(scores, k);
    scores.dispose();
    return idx;
  });
}
