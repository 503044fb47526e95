import type { CollapsedDims } from '@siftjs/tensor';
import { forEachRow } from './strided.js';

/** Visits each output's base offset in row-major order of the kept dims (`splitAxes` of @siftjs/tensor). */
export function forEachOutput(kept: CollapsedDims, offset: number, fn: (base: number, o: number) => void): void {
  const s = kept.strides[0][kept.strides[0].length - 1];
  let o = 0;
  forEachRow(kept, [offset], (off, n) => {
    let base = off[0];
    for (let j = 0; j < n; j++, base += s) fn(base, o++);
  });
}
