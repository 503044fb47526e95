import type { ReduceOp, View } from '@siftjs/tensor';
import fc from 'fast-check';
import { at, coords } from './helpers.js';

/** The float64 reduction over `axes` of a strided view (for argmax/argmin: the first extreme's index along them). */
export function reduceRef(op: ReduceOp | 'argmax' | 'argmin', data: ArrayLike<number>, v: Pick<View, 'shape' | 'strides' | 'offset'>, axes: number[]): number[] {
  const kept = v.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out: number[] = [];
  for (const kc of coords(kept)) {
    let acc = op === 'sum' ? 0 : op === 'max' || op === 'argmax' ? -Infinity : Infinity;
    let best = 0;
    let idx = 0;
    const red = v.shape.map((d, i) => (axes.includes(i) ? d : 1));
    for (const rc of coords(red)) {
      const x = at(data, v, kc.map((c, i) => c + rc[i]));
      if (op === 'sum') acc += x;
      else if (op === 'max' || op === 'argmax' ? x > acc : x < acc) {
        acc = x;
        best = idx;
      }
      idx++;
    }
    out.push(op === 'argmax' || op === 'argmin' ? best : acc);
  }
  return out;
}

/** A shape of rank 1–4 with dims 1–9, a seed, and a non-empty set of axes. */
export const reduceCase = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
    mask: fc.integer({ min: 1, max: 15 }),
  })
  .map(({ shape, seed, mask }) => {
    let axes = shape.map((_, i) => i).filter((i) => mask & (1 << i));
    if (axes.length === 0) axes = [shape.length - 1];
    return { shape, seed, axes };
  });
