import type { TypedArray } from '@siftjs/tensor';
import { type Geometry, collapse, forEachRow } from './strided.js';

/** The int32 values of a strided view, in row-major order. */
export function readInts(a: TypedArray, g: Geometry): Int32Array {
  const n = g.shape.reduce((p, d) => p * d, 1);
  const out = new Int32Array(n);
  const walk = collapse(g.shape, [g.strides]);
  const s = walk.strides[0][walk.strides[0].length - 1];
  let o = 0;
  forEachRow(walk, [g.offset], (off, m) => {
    for (let j = 0, i = off[0]; j < m; j++, i += s) out[o++] = a[i];
  });
  return out;
}

/** Throws the indexing kernels' error for an index outside [0, n). */
export function checkIndex(op: string, i: number, n: number): void {
  if (!(i >= 0 && i < n)) throw new RangeError(`${op}: index ${i} is out of range for ${n} elements`);
}
