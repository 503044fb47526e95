/**
 * Host-side selection for `topkAbs` (the contract's ties rule, written once for every backend that selects on the
 * host — the CPU, CUDA after reading magnitudes back, and the fallback in fallbacks/topkAbs.ts).
 *
 * The flat indices of the k largest |values| (NaN counts as the largest), sorted by magnitude descending, ties by
 * the lower index first. A quickselect finds the k-th magnitude, so the cost is O(n) plus a sort of the k winners,
 * not of all n.
 */
export function selectTopkAbs(values: ArrayLike<number>, k: number): Int32Array {
  const n = values.length;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`topkAbs: k = ${k} is out of range for ${n} elements`);
  if (k === 0) return new Int32Array(0);
  const mag = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.abs(values[i]);
    mag[i] = a !== a ? Infinity : a;
  }
  const threshold = kthLargest(mag.slice(), k);
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
