import { type Ref, axis, broadcastTo, ravel, size, unravel } from './core.js';

export function reshape(x: Ref, shape: number[]): Ref {
  return { shape: [...shape], data: x.data.slice() };
}

export function permute(x: Ref, dims: number[]): Ref {
  const shape = dims.map((d) => x.shape[d]);
  const out = new Float64Array(x.data.length);
  for (let f = 0; f < out.length; f++) {
    const idx = unravel(f, shape);
    const src = new Array<number>(x.shape.length);
    dims.forEach((d, i) => (src[d] = idx[i]));
    out[f] = x.data[ravel(src, x.shape)];
  }
  return { shape, data: out };
}

export function transpose(x: Ref, d0: number, d1: number): Ref {
  const dims = x.shape.map((_, i) => i);
  const a = axis(d0, x.shape.length);
  const b = axis(d1, x.shape.length);
  [dims[a], dims[b]] = [dims[b], dims[a]];
  return permute(x, dims);
}

/** Elements [start, end) along `ax`. */
export function slice(x: Ref, ax: number, start: number, end: number): Ref {
  const a = axis(ax, x.shape.length);
  const shape = [...x.shape];
  shape[a] = end - start;
  const out = new Float64Array(size(shape));
  for (let f = 0; f < out.length; f++) {
    const idx = unravel(f, shape);
    idx[a] += start;
    out[f] = x.data[ravel(idx, x.shape)];
  }
  return { shape, data: out };
}

export const expand = (x: Ref, shape: number[]) => broadcastTo(x, shape);

export function squeeze(x: Ref, ax?: number): Ref {
  const shape = ax === undefined ? x.shape.filter((d) => d !== 1) : x.shape.filter((d, i) => i !== axis(ax, x.shape.length) || d !== 1);
  return { shape, data: x.data.slice() };
}

export function unsqueeze(x: Ref, ax: number): Ref {
  const shape = [...x.shape];
  shape.splice(axis(ax, x.shape.length + 1), 0, 1);
  return { shape, data: x.data.slice() };
}

export function concat(xs: Ref[], ax: number): Ref {
  const a = axis(ax, xs[0].shape.length);
  const shape = [...xs[0].shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a], 0);
  const out = new Float64Array(size(shape));
  for (let f = 0; f < out.length; f++) {
    const idx = unravel(f, shape);
    let k = 0;
    let pos = idx[a];
    while (pos >= xs[k].shape[a]) pos -= xs[k++].shape[a];
    const src = [...idx];
    src[a] = pos;
    out[f] = xs[k].data[ravel(src, xs[k].shape)];
  }
  return { shape, data: out };
}

export function stack(xs: Ref[], ax: number): Ref {
  return concat(
    xs.map((x) => unsqueeze(x, ax)),
    ax,
  );
}

/** Pieces along `ax`: of the given sizes, or of `sizes` each (the last may be smaller). */
export function split(x: Ref, sizes: number[] | number, ax: number): Ref[] {
  const a = axis(ax, x.shape.length);
  const n = x.shape[a];
  const list: number[] = [];
  if (typeof sizes === 'number') for (let s = 0; s < n; s += sizes) list.push(Math.min(sizes, n - s));
  else list.push(...sizes);
  let at = 0;
  return list.map((len) => {
    const piece = slice(x, a, at, at + len);
    at += len;
    return piece;
  });
}

function triangle(x: Ref, keep: (row: number, col: number) => boolean): Ref {
  const r = x.shape.length;
  const out = new Float64Array(x.data.length);
  for (let f = 0; f < out.length; f++) {
    const idx = unravel(f, x.shape);
    out[f] = keep(idx[r - 2], idx[r - 1]) ? x.data[f] : 0;
  }
  return { shape: [...x.shape], data: out };
}

export const tril = (x: Ref, k = 0) => triangle(x, (i, j) => j - i <= k);
export const triu = (x: Ref, k = 0) => triangle(x, (i, j) => j - i >= k);

export function gatherFlat(x: Ref, indices: number[]): Ref {
  return { shape: [indices.length], data: Float64Array.from(indices, (i) => x.data[i]) };
}

export function scatterFlat(x: Ref, indices: number[], values: Ref, mode: 'set' | 'add'): Ref {
  const out = x.data.slice();
  indices.forEach((i, j) => (out[i] = mode === 'add' ? out[i] + values.data[j] : values.data[j]));
  return { shape: [...x.shape], data: out };
}

/** Flat indices of the k largest |x|, ties by lower index, sorted by |x| descending; and their values. */
export function topkAbs(x: Ref, k: number): { indices: number[]; values: number[] } {
  const order = Array.from(x.data, (_, i) => i).sort((a, b) => Math.abs(x.data[b]) - Math.abs(x.data[a]) || a - b);
  const indices = order.slice(0, k);
  return { indices, values: indices.map((i) => x.data[i]) };
}
