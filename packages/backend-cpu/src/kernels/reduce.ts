import type { ReduceOp, TypedArray, View } from '@siftjs/tensor';
import { collapse, forEachRow } from '../strided.js';

type Geometry = Pick<View, 'shape' | 'strides' | 'offset'>;

/** Splits a view into the kept dims (one output each) and the reduced dims (walked per output). */
export function splitAxes(g: Geometry, axes: readonly number[]) {
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const redShape: number[] = [];
  const redStrides: number[] = [];
  g.shape.forEach((d, i) => {
    if (axes.includes(i)) {
      redShape.push(d);
      redStrides.push(g.strides[i]);
    } else {
      keptShape.push(d);
      keptStrides.push(g.strides[i]);
    }
  });
  return {
    kept: collapse(keptShape, [keptStrides]),
    reduced: collapse(redShape, [redStrides]),
  };
}

/** Visits each output's base offset in row-major order of the kept dims. */
function forEachOutput(kept: ReturnType<typeof collapse>, offset: number, fn: (base: number, o: number) => void): void {
  const s = kept.strides[0][kept.strides[0].length - 1];
  let o = 0;
  forEachRow(kept, [offset], (off, n) => {
    let base = off[0];
    for (let j = 0; j < n; j++, base += s) fn(base, o++);
  });
}

/** Sums in float64 (JS numbers) whatever the storage type; max/min propagate NaN as PyTorch does. */
export function reduce(op: ReduceOp, x: TypedArray, g: Geometry, axes: readonly number[], out: TypedArray): void {
  const { kept, reduced } = splitAxes(g, axes);
  const single = reduced.shape.length === 1;
  const n1 = reduced.shape[0];
  const s1 = reduced.strides[0][0];
  const init = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
  const combine =
    op === 'sum'
      ? (acc: number, v: number) => acc + v
      : op === 'max'
        ? (acc: number, v: number) => (v > acc || v !== v ? v : acc)
        : (acc: number, v: number) => (v < acc || v !== v ? v : acc);
  forEachOutput(kept, g.offset, (base, o) => {
    let acc = init;
    if (single) {
      if (op === 'sum') for (let j = 0, i = base; j < n1; j++, i += s1) acc += x[i];
      else for (let j = 0, i = base; j < n1 && acc === acc; j++, i += s1) acc = combine(acc, x[i]);
    } else {
      const rs = reduced.strides[0][reduced.strides[0].length - 1];
      forEachRow(reduced, [base], (off, n) => {
        for (let j = 0, i = off[0]; j < n; j++, i += rs) acc = combine(acc, x[i]);
      });
    }
    out[o] = acc;
  });
}

/** Index of the first max/min along one axis; NaN counts as the extremum (first NaN wins), as PyTorch. */
export function argReduce(op: 'argmax' | 'argmin', x: TypedArray, g: Geometry, axis: number, out: Int32Array): void {
  const { kept } = splitAxes(g, [axis]);
  const n = g.shape[axis];
  const s = g.strides[axis];
  const better = op === 'argmax' ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
  forEachOutput(kept, g.offset, (base, o) => {
    let best = x[base];
    let at = 0;
    if (best === best) {
      for (let j = 1, i = base + s; j < n; j++, i += s) {
        const v = x[i];
        if (v !== v) {
          at = j;
          break;
        }
        if (better(v, best)) {
          best = v;
          at = j;
        }
      }
    }
    out[o] = at;
  });
}
