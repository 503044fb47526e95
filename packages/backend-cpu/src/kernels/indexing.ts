import type { TypedArray, View } from '@siftjs/tensor';
import { collapse, forEachRow } from '../strided.js';

type Geometry = Pick<View, 'shape' | 'strides' | 'offset'>;

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

/** Element offsets of a view's elements in row-major order (for flat indexing of non-contiguous views). */
export function elementOffsets(g: Geometry): Int32Array | null {
  const n = g.shape.reduce((p, d) => p * d, 1);
  const walk = collapse(g.shape, [g.strides]);
  if (walk.shape.length === 1 && walk.strides[0][0] === 1) return null; // contiguous: offset + i
  const out = new Int32Array(n);
  const s = walk.strides[0][walk.strides[0].length - 1];
  let o = 0;
  forEachRow(walk, [g.offset], (off, m) => {
    for (let j = 0, i = off[0]; j < m; j++, i += s) out[o++] = i;
  });
  return out;
}

export function checkIndex(op: string, i: number, n: number): void {
  if (!(i >= 0 && i < n)) throw new RangeError(`${op}: index ${i} is out of range for ${n} elements`);
}

/**
 * The k largest |x| by magnitude (NaN counts as largest), ties by lower index, sorted descending. A quickselect
 * finds the k-th magnitude first, so the cost is O(n) plus a sort of the k winners, not of all n.
 */
export function topkAbs(values: Float64Array, k: number): Int32Array {
  const n = values.length;
  const mag = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.abs(values[i]);
    mag[i] = a !== a ? Infinity : a;
  }
  if (k === 0) return new Int32Array(0);
  const scratch = mag.slice();
  const threshold = kthLargest(scratch, k);
  const picked = new Int32Array(k);
  let c = 0;
  for (let i = 0; i < n && c < k; i++) if (mag[i] > threshold) picked[c++] = i;
  for (let i = 0; i < n && c < k; i++) if (mag[i] === threshold) picked[c++] = i;
  const order = Array.from(picked);
  order.sort((a, b) => mag[b] - mag[a] || a - b);
  return Int32Array.from(order);
}

/** The k-th largest value of `a` (1-based), reordering `a` (Hoare quickselect, median of three). */
function kthLargest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1; // position in descending order
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const p = median3(a[lo], a[mid], a[hi]);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > p) i++;
      while (a[j] < p) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

function median3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}
