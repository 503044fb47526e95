/**
 * Strided iteration shared by the kernels: several operands of one shape, each with its own strides and offset,
 * walked row by row over the innermost dim after merging dims that are contiguous for every operand.
 */
export interface Walk {
  shape: number[];
  strides: number[][];
}

/** Drops size-1 dims and merges neighbours that are contiguous for every operand. */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): Walk {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d]);
    if (mergeable) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    outStrides.forEach((s) => s.push(1));
  }
  return { shape: outShape, strides: outStrides };
}

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
