import { record } from '../autograd/record.js';
import { softmax as softmaxFallback } from '../fallbacks/softmax.js';
import { softmaxBackward as softmaxBackwardFallback } from '../fallbacks/softmaxBackward.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { fromStorage, requireFloat } from './util.js';
import { contiguous, transpose } from './views.js';

/**
 * Softmax along `axis`, fused (max-subtracted, one pass per row) where the backend has the kernel, else its
 * reference from primitives (fallbacks/softmax.ts). Both work on rows of the last dim, so another axis is moved
 * last and back.
 */
function softmaxAlong(x: Tensor, axis: number, log: boolean): Tensor {
  const name = log ? 'logSoftmax' : 'softmax';
  requireFloat(name, x);
  if (x.rank === 0) {
    const row = x.reshape([1]);
    const y = softmaxAlong(row, 0, log);
    const out = y.reshape([]);
    row.dispose();
    y.dispose();
    return out;
  }
  const a = normalizeAxis(axis, x.rank, name);
  if (a !== x.rank - 1) {
    const moved = transpose(x, a, -1);
    const y = softmaxAlong(moved, -1, log);
    const back = transpose(y, a, -1);
    moved.dispose();
    y.dispose();
    return back;
  }
  const cols = x.shape[x.rank - 1];
  const xc = contiguous(x);
  const b = x.backend;
  const y = b.softmax ? fromStorage(b, b.softmax(xc.raw(), cols, log), x.dtype, x.shape) : softmaxFallback(xc, cols, log);
  xc.dispose();
  return record(
    name,
    y,
    [x],
    (g, [ys]) => {
      const gc = contiguous(g);
      return [b.softmaxBackward ? fromStorage(b, b.softmaxBackward(ys.raw(), gc.raw(), cols, log), g.dtype, g.shape) : softmaxBackwardFallback(ys, gc, cols, log)];
    },
    [y],
  );
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxAlong(x, axis, false);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxAlong(x, axis, true);
}
