import { type Ref, axis, broadcastTo, ravel, size, unravel } from './core.js';

/** The same data in a new shape of the same size; one dim may be −1 (inferred). */
export function reshape(x: Ref, shape: readonly number[]): Ref {
  const n = x.data.length;
  const out = [...shape];
  const free = out.indexOf(-1);
  if (free !== out.lastIndexOf(-1)) throw new Error(`reshape: more than one -1 in [${shape}]`);
  if (free >= 0) {
    const known = size(out.filter((_, i) => i !== free));
    if (known === 0 || n % known !== 0) throw new Error(`reshape: cannot infer -1 reshaping [${x.shape}] to [${shape}]`);
    out[free] = n / known;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || size(out) !== n) throw new Error(`reshape: [${x.shape}] to [${shape}]`);
  return { shape: out, data: x.data.slice() };
}

/** Output dim i is input dim dims[i] (dims a permutation of the axes; negatives allowed). */
export function permute(x: Ref, dims: readonly number[]): Ref {
  const rank = x.shape.length;
  const d = dims.map((a) => axis(a, rank));
  if (d.length !== rank || new Set(d).size !== rank) throw new Error(`permute: [${dims}] is not a permutation of ${rank} axes`);
  const shape = d.map((a) => x.shape[a]);
  const out = new Float64Array(x.data.length);
  const src = new Array<number>(rank);
  for (let f = 0; f < out.length; f++) {
    const idx = unravel(f, shape);
    for (let i = 0; i < rank; i++) src[d[i]] = idx[i];
    out[f] = x.data[ravel(src, x.shape)];
  }
  return { shape, data: out };
}

/** Swaps two axes. */
export function transpose(x: Ref, dim0: number, dim1: number): Ref {
  const dims = x.shape.map((_, i) => i);
  const a = axis(dim0, x.shape.length);
  const b = axis(dim1, x.shape.length);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/**
 * torch.narrow-like: the elements with index in [start, end) along `ax`. Negative start/end count from the
 * end of the axis (Python style); the range must lie inside the axis.
 */
export function slice(x: Ref, ax: number, start: number, end: number): Ref {
  const a = axis(ax, x.shape.length);
  const n = x.shape[a];
  const s = start < 0 ? start + n : start;
  const e = end < 0 ? end + n : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > n || s > e) {
    throw new Error(`slice: [${start}, ${end}) out of range for axis ${ax} of [${x.shape}]`);
  }
  const shape = [...x.shape];
  shape[a] = e - s;
  const out = new Float64Array(size(shape));
  for (let f = 0; f < out.length; f++) {
    const idx = unravel(f, shape);
    idx[a] += s;
    out[f] = x.data[ravel(idx, x.shape)];
  }
  return { shape, data: out };
}

/** torch expand: broadcast to `shape`, where −1 keeps the existing size (for the trailing-aligned dims). */
export function expand(x: Ref, shape: readonly number[]): Ref {
  const lead = shape.length - x.shape.length;
  if (lead < 0) throw new Error(`expand: [${x.shape}] to fewer dims [${shape}]`);
  const target = shape.map((d, i) => {
    if (d !== -1) return d;
    if (i < lead) throw new Error(`expand: -1 in a new leading dim of [${shape}]`);
    return x.shape[i - lead];
  });
  return broadcastTo(x, target);
}

/** Removes size-1 dims: all of them, or just `ax` when it has size 1 (otherwise a no-op, like torch). */
export function squeeze(x: Ref, ax?: number): Ref {
  let shape: number[];
  if (ax === undefined) shape = x.shape.filter((d) => d !== 1);
  else {
    const a = axis(ax, x.shape.length);
    shape = x.shape.filter((d, i) => i !== a || d !== 1);
  }
  return { shape, data: x.data.slice() };
}

/** Inserts a size-1 dim so it becomes axis `ax` of the result (ax in [−rank−1, rank]). */
export function unsqueeze(x: Ref, ax: number): Ref {
  const shape = [...x.shape];
  shape.splice(axis(ax, x.shape.length + 1), 0, 1);
  return { shape, data: x.data.slice() };
}

/** Joins along `ax`; all other dims must agree. */
export function concat(xs: readonly Ref[], ax: number): Ref {
  if (xs.length === 0) throw new Error('concat: no tensors');
  const rank = xs[0].shape.length;
  const a = axis(ax, rank);
  for (const x of xs) {
    if (x.shape.length !== rank || x.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) {
      throw new Error(`concat: [${x.shape}] does not match [${xs[0].shape}] off axis ${ax}`);
    }
  }
  const shape = [...xs[0].shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a], 0);
  const out = new Float64Array(size(shape));
  for (let f = 0; f < out.length; f++) {
    const idx = unravel(f, shape);
    let k = 0;
    while (idx[a] >= xs[k].shape[a]) idx[a] -= xs[k++].shape[a];
    out[f] = xs[k].data[ravel(idx, xs[k].shape)];
  }
  return { shape, data: out };
}

/** Joins equal-shaped tensors along a new axis `ax` (ax in [−rank−1, rank]). */
export function stack(xs: readonly Ref[], ax: number): Ref {
  if (xs.length === 0) throw new Error('stack: no tensors');
  for (const x of xs) {
    if (x.shape.join() !== xs[0].shape.join() || x.shape.length !== xs[0].shape.length) {
      throw new Error(`stack: [${x.shape}] differs from [${xs[0].shape}]`);
    }
  }
  return concat(
    xs.map((x) => unsqueeze(x, ax)),
    ax,
  );
}

/**
 * Pieces along `ax`: of the listed sizes (which must add up to the axis length), or, given one number, chunks
 * of that size with a smaller last one (torch.split semantics).
 */
export function split(x: Ref, sizes: readonly number[] | number, ax: number): Ref[] {
  const a = axis(ax, x.shape.length);
  const n = x.shape[a];
  const list: number[] = [];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new Error(`split: chunk size ${sizes}`);
    for (let s = 0; s < n; s += sizes) list.push(Math.min(sizes, n - s));
  } else {
    if (sizes.reduce((s, t) => s + t, 0) !== n || sizes.some((t) => !Number.isInteger(t) || t < 0)) {
      throw new Error(`split: sizes [${sizes}] do not add up to ${n}`);
    }
    list.push(...sizes);
  }
  const pieces: Ref[] = [];
  let at = 0;
  for (const len of list) {
    pieces.push(slice(x, a, at, at + len));
    at += len;
  }
  return pieces;
}

/** Keeps the elements of the last two dims where keep(row, col), zeroes the rest; batched over leading dims. */
function triangle(x: Ref, op: string, keep: (row: number, col: number) => boolean): Ref {
  const r = x.shape.length;
  if (r < 2) throw new Error(`${op}: needs at least 2 dims, got [${x.shape}]`);
  const out = new Float64Array(x.data.length);
  for (let f = 0; f < out.length; f++) {
    const idx = unravel(f, x.shape);
    out[f] = keep(idx[r - 2], idx[r - 1]) ? x.data[f] : 0;
  }
  return { shape: [...x.shape], data: out };
}

/** Lower triangle: keeps col − row ≤ k. */
export const tril = (x: Ref, k = 0): Ref => triangle(x, 'tril', (i, j) => j - i <= k);

/** Upper triangle: keeps col − row ≥ k. */
export const triu = (x: Ref, k = 0): Ref => triangle(x, 'triu', (i, j) => j - i >= k);

function checkFlat(op: string, x: Ref, indices: readonly number[]): void {
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= x.data.length) throw new Error(`${op}: index ${i} out of range [0, ${x.data.length})`);
  }
}

/** x.flatten()[indices], shape [indices.length]. */
export function gatherFlat(x: Ref, indices: readonly number[]): Ref {
  checkFlat('gatherFlat', x, indices);
  return { shape: [indices.length], data: Float64Array.from(indices, (i) => x.data[i]) };
}

/**
 * A copy of x whose flat positions indices[j] get values[j] ('set'; with repeated indices the last wins) or
 * have values[j] added ('add'; repeats accumulate).
 */
export function scatterFlat(x: Ref, indices: readonly number[], values: Ref | ArrayLike<number>, mode: 'set' | 'add'): Ref {
  checkFlat('scatterFlat', x, indices);
  const vals: ArrayLike<number> = 'data' in values ? values.data : values;
  if (vals.length !== indices.length) throw new Error(`scatterFlat: ${vals.length} values for ${indices.length} indices`);
  const out = x.data.slice();
  for (let j = 0; j < indices.length; j++) {
    out[indices[j]] = mode === 'add' ? out[indices[j]] + vals[j] : vals[j];
  }
  return { shape: [...x.shape], data: out };
}

/** Flat indices of the k elements of largest |x| (ties by lower index), sorted by |x| descending; and their values. */
export function topkAbs(x: Ref, k: number): { indices: number[]; values: number[] } {
  if (!Number.isInteger(k) || k < 0 || k > x.data.length) throw new Error(`topkAbs: k = ${k} for ${x.data.length} elements`);
  const order = Array.from({ length: x.data.length }, (_, i) => i);
  order.sort((a, b) => Math.abs(x.data[b]) - Math.abs(x.data[a]) || a - b);
  const indices = order.slice(0, k);
  return { indices, values: indices.map((i) => x.data[i]) };
}
