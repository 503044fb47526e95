import { type BackendStorage, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { contiguousGeometry, copyStrided } from './support/copy-strided.js';

/** The k largest |x| (ties: lower index first), by |x| descending: values in x's dtype and flat int32 indices. */
export function topkAbs(cpu: CpuContext, x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
  const n = sizeOf(x.shape);
  const flat = new Float64Array(n);
  copyStrided(cpu.array(x.storage), x, flat, contiguousGeometry(x.shape));
  const idx = selectTopkAbs(flat, k);
  const values = cpu.make(x.dtype, k);
  const v = cpu.array(values);
  for (let i = 0; i < k; i++) v[i] = flat[idx[i]];
  return { values, indices: cpu.upload('int32', idx) };
}

/**
 * The k largest |x| by magnitude (NaN counts as largest), ties by lower index, sorted descending. A quickselect
 * finds the k-th magnitude first, so the cost is O(n) plus a sort of the k winners, not of all n.
 */
function selectTopkAbs(values: Float64Array, k: number): Int32Array {
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
