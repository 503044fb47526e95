import { record } from '../autograd/record.js';
import { ShapeError, fmtShape } from '../errors.js';
import { topkAbs as topkAbsFallback } from '../fallbacks/topkAbs.js';
import type { Tensor } from '../tensor.js';
import { backendOf, fromStorage, requireDType } from './util.js';
import { contiguous, reshape } from './views.js';

/**
 * Embedding lookup: rows of `table` [V, D] picked by int32 `ids` of any shape → [...ids.shape, D].
 * Backward scatters the gradient rows back, adding where an id repeats.
 */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  requireDType('embedding', ids, 'int32');
  if (table.rank !== 2) throw new ShapeError(`embedding: the table must be [vocab, dim], got ${fmtShape(table.shape)}`);
  const b = backendOf('embedding', table, ids);
  const [v, d] = table.shape;
  const out = fromStorage(b, b.gatherRows(table.raw(), ids.raw()), table.dtype, [...ids.shape, d]);
  return record(
    'embedding',
    out,
    [table],
    (g, [idx]) => {
      const g2 = contiguous(reshape(g, [idx.size, d]));
      return [fromStorage(b, b.scatterAddRows(v, idx.raw(), g2.raw()), g.dtype, [v, d])];
    },
    [ids],
  );
}

/** out[i] = x.flat[indices[i]], in the shape of `indices`. Backward: scatter-add into zeros. */
export function gatherFlat(x: Tensor, indices: Tensor): Tensor {
  requireDType('gatherFlat', indices, 'int32');
  const b = backendOf('gatherFlat', x, indices);
  const out = fromStorage(b, b.gatherFlat(x.raw(), indices.raw()), x.dtype, indices.shape);
  const shape = x.shape;
  return record(
    'gatherFlat',
    out,
    [x],
    (g, [idx]) => {
      const gc = contiguous(g);
      const dst = fromStorage(b, b.alloc(g.dtype, x.size), g.dtype, shape);
      b.scatterFlat(dst.raw().storage, g.dtype, idx.raw(), gc.raw(), 'add');
      return [dst];
    },
    [indices],
  );
}

/**
 * A copy of `x` with `values` written ('set') or added ('add') at flat `indices`. With 'set' and repeated
 * indices the last write wins on the CPU; other backends may differ, so repeat indices only with 'add'.
 */
export function scatterFlat(x: Tensor, indices: Tensor, values: Tensor, mode: 'set' | 'add' = 'set'): Tensor {
  requireDType('scatterFlat', indices, 'int32');
  if (values.size !== indices.size) {
    throw new ShapeError(`scatterFlat: ${values.size} values ${fmtShape(values.shape)} for ${indices.size} indices ${fmtShape(indices.shape)}`);
  }
  if (values.dtype !== x.dtype) throw new ShapeError(`scatterFlat: values are ${values.dtype} but x is ${x.dtype}`);
  const b = backendOf('scatterFlat', x, indices, values);
  const out = fromStorage(b, b.copy(x.raw()), x.dtype, x.shape);
  const vc = contiguous(values);
  b.scatterFlat(out.raw().storage, x.dtype, indices.raw(), vc.raw(), mode);
  vc.dispose();
  const vShape = values.shape;
  return record(
    'scatterFlat',
    out,
    [x, values],
    (g, [idx], need) => {
      let gx: Tensor | null = null;
      if (need[0]) {
        if (mode === 'add') gx = g;
        else {
          const zeros = fromStorage(b, b.alloc(g.dtype, idx.size), g.dtype, [idx.size]);
          gx = scatterFlat(g, idx, zeros, 'set');
        }
      }
      const gv = need[1] ? reshape(gatherFlat(g, reshape(idx, [idx.size])), vShape) : null;
      return [gx, gv];
    },
    [indices],
  );
}

/**
 * The k elements of largest magnitude (ties: lower index first), by |x| descending: values and flat indices. The
 * backend's kernel where it has one, else the host selection of fallbacks/topkAbs.ts.
 */
export function topkAbs(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  if (!Number.isInteger(k) || k < 0 || k > x.size) {
    throw new ShapeError(`topkAbs: k = ${k} is out of range for ${x.size} elements ${fmtShape(x.shape)}`);
  }
  const b = x.backend;
  let indices: Tensor;
  let values: Tensor;
  if (b.topkAbs) {
    const r = b.topkAbs(x.raw(), k);
    indices = fromStorage(b, r.indices, 'int32', [k]);
    values = fromStorage(b, r.values, x.dtype, [k]);
  } else ({ indices, values } = topkAbsFallback(x, k));
  const shape = x.shape;
  const v = record(
    'topkAbs',
    values,
    [x],
    (g, [idx]) => {
      const dst = fromStorage(b, b.alloc(g.dtype, x.size), g.dtype, shape);
      const gc = contiguous(g);
      b.scatterFlat(dst.raw().storage, g.dtype, idx.raw(), gc.raw(), 'set');
      return [dst];
    },
    [indices],
  );
  return { values: v, indices };
}
