import { SAMPLED_CHUNK_ROWS, type TypedArray } from '@siftjs/tensor';
import { checkIndex } from './indexing.js';

/** Rows of A and G taken at a time (the contract's bound): their column-major copies stay small and in cache. */
export { SAMPLED_CHUNK_ROWS };

/**
 * Accumulates SIFT's weight-gradient components for one chunk of rows (the contract's sampledMatmul): entry j is
 * the dot product of column rows[j] of A with column cols[j] of G. The caller lays the chunk out column by column
 * (`aCols` [K, c], `gCols` [N, c], contiguous) so that each dot reads two contiguous runs; even and odd terms are
 * summed apart in float64 and added last (wasm/elementwise-f32.wat's sampledDots does the same, bit for bit).
 */
export function sampledMatmulChunk(aCols: TypedArray, gCols: TypedArray, rows: Int32Array, cols: Int32Array, c: number, acc: Float64Array): void {
  for (let j = 0; j < rows.length; j++) {
    let ai = rows[j] * c;
    let gi = cols[j] * c;
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

/**
 * The column of A and of G behind each index: f is (f / N, f % N) of the [K, N] product Aᵀ·G, or (f % K, f / K) when
 * the weight is stored transposed [N, K]. Checks every index first.
 */
export function sampledColumns(ids: ArrayLike<number>, k: number, n: number, transposed: boolean, rows: Int32Array, cols: Int32Array): void {
  for (let j = 0; j < ids.length; j++) checkIndex('sampledMatmul', ids[j], k * n);
  for (let j = 0; j < ids.length; j++) {
    const f = ids[j];
    rows[j] = transposed ? f % k : Math.floor(f / n);
    cols[j] = transposed ? Math.floor(f / k) : f % n;
  }
}

/** out[i·rows + r] = x[offset + r·stride + i] for r < rows, i < cols: a chunk of row-contiguous rows, column by column. */
export function transposeRows(x: TypedArray, offset: number, stride: number, rows: number, cols: number, out: TypedArray): void {
  for (let r = 0; r < rows; r++) {
    const from = offset + r * stride;
    for (let i = 0, o = r; i < cols; i++, o += rows) out[o] = x[from + i];
  }
}
