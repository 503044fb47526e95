import { type Ref, axis, size, unravel } from './core.js';

/** Groups the elements of x by their index on the kept axes; returns the output shape and each group's values. */
function groups(x: Ref, axes: number[] | undefined, keepdim: boolean) {
  const rank = x.shape.length;
  const red = (axes ?? x.shape.map((_, i) => i)).map((a) => axis(a, rank));
  const keptShape = x.shape.map((d, i) => (red.includes(i) ? 1 : d));
  const outShape = keepdim ? keptShape : x.shape.filter((_, i) => !red.includes(i));
  const buckets: number[][] = Array.from({ length: size(keptShape) }, () => []);
  for (let f = 0; f < x.data.length; f++) {
    const idx = unravel(f, x.shape);
    let o = 0;
    for (let i = 0; i < rank; i++) o = o * keptShape[i] + (red.includes(i) ? 0 : idx[i]);
    buckets[o].push(x.data[f]);
  }
  return { outShape, buckets };
}

function reduceWith(x: Ref, axes: number[] | undefined, keepdim: boolean, f: (vals: number[]) => number): Ref {
  const { outShape, buckets } = groups(x, axes, keepdim);
  return { shape: outShape, data: Float64Array.from(buckets.map(f)) };
}

export const sum = (x: Ref, axes?: number[], keepdim = false) => reduceWith(x, axes, keepdim, (v) => v.reduce((a, b) => a + b, 0));
export const mean = (x: Ref, axes?: number[], keepdim = false) =>
  reduceWith(x, axes, keepdim, (v) => v.reduce((a, b) => a + b, 0) / v.length);
export const max = (x: Ref, axes?: number[], keepdim = false) => reduceWith(x, axes, keepdim, (v) => Math.max(...v));
export const min = (x: Ref, axes?: number[], keepdim = false) => reduceWith(x, axes, keepdim, (v) => Math.min(...v));
export const prod = (x: Ref, axes?: number[], keepdim = false) => reduceWith(x, axes, keepdim, (v) => v.reduce((a, b) => a * b, 1));

/** Σ(x − mean)² / (N − correction), like torch.var. */
export function variance(x: Ref, axes?: number[], keepdim = false, correction = 1): Ref {
  return reduceWith(x, axes, keepdim, (v) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - correction);
  });
}

function argBest(x: Ref, ax: number, keepdim: boolean, better: (a: number, b: number) => boolean): Ref {
  const { outShape, buckets } = groups(x, [ax], keepdim);
  // Buckets list values in increasing index along the reduced axis, so the first best wins ties.
  return {
    shape: outShape,
    data: Float64Array.from(buckets.map((v) => v.reduce((best, val, i) => (better(val, v[best]) ? i : best), 0))),
  };
}

export const argmax = (x: Ref, ax: number, keepdim = false) => argBest(x, axis(ax, x.shape.length), keepdim, (a, b) => a > b);
export const argmin = (x: Ref, ax: number, keepdim = false) => argBest(x, axis(ax, x.shape.length), keepdim, (a, b) => a < b);
