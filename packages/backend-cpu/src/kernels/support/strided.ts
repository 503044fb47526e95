import { type CollapsedDims, type View, collapseDims } from '@siftjs/tensor';

/** Where a view's elements lie in its storage: what the strided kernels read of a `View`. */
export type Geometry = Pick<View, 'shape' | 'strides' | 'offset'>;

/**
 * Strided iteration shared by the kernels: several operands of one shape, each with its own strides and offset,
 * walked row by row over the innermost dim after merging dims that are contiguous for every operand.
 */
export type Walk = CollapsedDims;

/** Drops size-1 dims and merges neighbours that are contiguous for every operand (tensor's collapseDims). */
export const collapse = collapseDims;

/**
 * Calls `row(offsets, n)` for every innermost row: `offsets[k]` is operand k's element offset at the row start,
 * and the row has `n` elements stepping by `walk.strides[k][last]`. `offsets` is reused: read it, don't keep it.
 */
export function forEachRow(walk: Walk, start: readonly number[], row: (offsets: number[], n: number) => void): void {
  const { shape, strides } = walk;
  const rank = shape.length;
  const n = shape[rank - 1];
  for (const d of shape) if (d === 0) return;
  const k = start.length;
  const offsets = [...start];
  const idx = new Array<number>(rank).fill(0);
  for (;;) {
    row(offsets, n);
    let d = rank - 2;
    while (d >= 0) {
      idx[d]++;
      for (let o = 0; o < k; o++) offsets[o] += strides[o][d];
      if (idx[d] < shape[d]) break;
      for (let o = 0; o < k; o++) offsets[o] -= strides[o][d] * shape[d];
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}
