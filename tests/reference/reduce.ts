import { type Ref, axis, size, unravel } from './core.js';

/**
 * Splits x into the groups a reduction combines: one group per output element, holding the values of x that
 * reduce into it, in row-major order of x (so, for a single reduced axis, in increasing index along it).
 * `axes` undefined reduces every axis; negative axes count from the end; repeats are harmless.
 */
function groups(x: Ref, axes: number[] | undefined, keepdim: boolean): { outShape: number[]; buckets: number[][] } {
  const rank = x.shape.length;
  const reduced = new Array<boolean>(rank).fill(axes === undefined);
  for (const a of axes ?? []) reduced[axis(a, rank)] = true;
  const keptShape = x.shape.map((d, i) => (reduced[i] ? 1 : d));
  const outShape = keepdim ? keptShape : x.shape.filter((_, i) => !reduced[i]);
  const buckets: number[][] = Array.from({ length: size(keptShape) }, () => []);
  for (let f = 0; f < x.data.length; f++) {
    const idx = unravel(f, x.shape);
    let o = 0;
    for (let i = 0; i < rank; i++) o = o * keptShape[i] + (reduced[i] ? 0 : idx[i]);
    buckets[o].push(x.data[f]);
  }
  return { outShape, buckets };
}

function reduceWith(x: Ref, axes: number[] | undefined, keepdim: boolean, f: (vals: number[]) => number): Ref {
  const { outShape, buckets } = groups(x, axes, keepdim);
  return { shape: outShape, data: Float64Array.from(buckets, f) };
}

function total(v: number[]): number {
  let s = 0;
  for (const t of v) s += t;
  return s;
}

function nonEmpty(op: string, v: number[]): number[] {
  if (v.length === 0) throw new Error(`${op}: reduction over zero elements`);
  return v;
}

export const sum = (x: Ref, axes?: number[], keepdim = false): Ref => reduceWith(x, axes, keepdim, total);

/** Σ/N; NaN for an empty group (like torch). */
export const mean = (x: Ref, axes?: number[], keepdim = false): Ref => reduceWith(x, axes, keepdim, (v) => total(v) / v.length);

/** Largest value; NaN propagates. Throws on an empty group (like torch). */
export const max = (x: Ref, axes?: number[], keepdim = false): Ref =>
  reduceWith(x, axes, keepdim, (v) => nonEmpty('max', v).reduce((m, t) => Math.max(m, t), -Infinity));

/** Smallest value; NaN propagates. Throws on an empty group (like torch). */
export const min = (x: Ref, axes?: number[], keepdim = false): Ref =>
  reduceWith(x, axes, keepdim, (v) => nonEmpty('min', v).reduce((m, t) => Math.min(m, t), Infinity));

export const prod = (x: Ref, axes?: number[], keepdim = false): Ref =>
  reduceWith(x, axes, keepdim, (v) => v.reduce((p, t) => p * t, 1));

/** Σ(x − mean)² / (N − correction), like torch.var (two passes; N − correction ≤ 0 gives Inf/NaN). */
export function variance(x: Ref, axes?: number[], keepdim = false, correction = 1): Ref {
  return reduceWith(x, axes, keepdim, (v) => {
    const m = total(v) / v.length;
    let ss = 0;
    for (const t of v) ss += (t - m) * (t - m);
    return ss / (v.length - correction);
  });
}

/** Index along `ax` of the first element that `better` prefers over all earlier ones; NaN counts as best. */
function argBest(x: Ref, ax: number, keepdim: boolean, op: string, better: (a: number, b: number) => boolean): Ref {
  const a = axis(ax, x.shape.length);
  const { outShape, buckets } = groups(x, [a], keepdim);
  const pick = (v: number[]): number => {
    nonEmpty(op, v);
    let best = 0;
    for (let i = 1; i < v.length; i++) {
      if (Number.isNaN(v[best])) break;
      if (Number.isNaN(v[i]) || better(v[i], v[best])) best = i;
    }
    return best;
  };
  return { shape: outShape, data: Float64Array.from(buckets, pick) };
}

/** Index of the maximum along `ax` (first one on ties, first NaN if any), as numbers. */
export const argmax = (x: Ref, ax: number, keepdim = false): Ref => argBest(x, ax, keepdim, 'argmax', (p, q) => p > q);

/** Index of the minimum along `ax` (first one on ties, first NaN if any), as numbers. */
export const argmin = (x: Ref, ax: number, keepdim = false): Ref => argBest(x, ax, keepdim, 'argmin', (p, q) => p < q);
