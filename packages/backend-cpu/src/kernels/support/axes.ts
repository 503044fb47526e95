import { type Geometry, collapse, forEachRow } from './strided.js';

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
export function forEachOutput(kept: ReturnType<typeof collapse>, offset: number, fn: (base: number, o: number) => void): void {
  const s = kept.strides[0][kept.strides[0].length - 1];
  let o = 0;
  forEachRow(kept, [offset], (off, n) => {
    let base = off[0];
    for (let j = 0; j < n; j++, base += s) fn(base, o++);
  });
}
