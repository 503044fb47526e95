import type { TypedArray } from '@siftjs/tensor';
import { checkIndex } from './indexing.js';

/** Rows of A and G taken at a time: their column-major copies stay small (chunk·(K + N) elements) and in cache. */
export const SAMPLED_CHUNK_ROWS = 64;

/**
 * Accumulates SIFT's weight-gradient components for one chunk of rows (the contract's sampledMatmul): entry j is
 * the dot product of one column of A with one column of G. The caller lays the chunk out column by column
 * (`aCols` [K, c], `gCols` [N, c], contiguous) so that each dot reads two contiguous runs; sums go into float64 `acc`.
 * Index f is (f / N, f % N) of the [K, N] product, or (f % K, f / K) when the weight is stored transposed [N, K].
 */
export function sampledMatmulChunk(aCols: TypedArray, gCols: TypedArray, ids: ArrayLike<number>, c: number, k: number, n: number, transposed: boolean, acc: Float64Array): void {
  for (let j = 0; j < ids.length; j++) {
    const f = ids[j];
    const r = transposed ? f % k : Math.floor(f / n);
    const col = transposed ? Math.floor(f / k) : f % n;
    let ai = r * c;
    let gi = col * c;
    let s0 = 0;
    let s1 = 0;
    let i = 0;
    for (; i + 1 < c; i += 2, ai += 2, gi += 2) {
      s0 += aCols[ai] * gCols[gi];
      s1 += aCols[ai + 1] * gCols[gi + 1];
    }
    if (i < c) s0 += aCols[ai] * gCols[gi];
    acc[j] += s0 + s1;
  }
}

export function checkSampledIndices(ids: ArrayLike<number>, size: number): void {
  for (let j = 0; j < ids.length; j++) checkIndex('sampledMatmul', ids[j], size);
}
