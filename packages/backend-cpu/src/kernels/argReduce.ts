import { type BackendStorage, type TypedArray, type View, sizeOf, splitAxes } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { forEachOutput } from './support/axes.js';
import type { Geometry } from './support/strided.js';
import { halfOperands } from './support/half-operands.js';

/**
 * Index (int32) of the first max/min along `axis`; the output keeps that dim as 1.
 * Half operands widen to float32 and the result is rounded back (support/half-operands.ts).
 */
export const argReduce = halfOperands(function argReduce(cpu: CpuContext, op: 'argmax' | 'argmin', x: View, axis: number): BackendStorage {
  const out = cpu.make('int32', sizeOf(x.shape) / (x.shape[axis] || 1));
  argReduceStrided(op, cpu.array(x.storage), x, axis, cpu.array(out) as Int32Array);
  return out;
});

/** Index of the first max/min along one axis; NaN counts as the extremum (first NaN wins), as PyTorch. */
function argReduceStrided(op: 'argmax' | 'argmin', x: TypedArray, g: Geometry, axis: number, out: Int32Array): void {
  const { kept } = splitAxes(g.shape, g.strides, [axis]);
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
