import { record } from '../autograd/record.js';
import { ShapeError, fmtShape } from '../errors.js';
import { contiguousStrides, normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { backendOf, fromStorage } from './util.js';
import { narrow, unsqueeze } from './views.js';
import { promoteTypes } from '../dtype.js';

/** Joins tensors along an existing dim; the others must match. Each input's gradient is its slice of g. */
export function concat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: needs at least one tensor');
  const first = xs[0];
  const d = normalizeAxis(dim, first.rank, 'concat');
  for (const x of xs) {
    const ok = x.rank === first.rank && x.shape.every((s, i) => i === d || s === first.shape[i]);
    if (!ok) throw new ShapeError(`concat: shapes ${xs.map((t) => fmtShape(t.shape)).join(', ')} differ outside dim ${dim}`);
    if (x.dtype !== first.dtype) {
      throw new ShapeError(`concat: dtypes differ (${first.dtype} and ${x.dtype}); cast first (common type ${promoteTypes(first.dtype, x.dtype)})`);
    }
  }
  const b = backendOf('concat', ...xs);
  const shape = [...first.shape];
  shape[d] = xs.reduce((s, x) => s + x.shape[d], 0);
  const out = fromStorage(b, b.alloc(first.dtype, sizeOf(shape)), first.dtype, shape);
  const strides = contiguousStrides(shape);
  const dst = out.raw();
  let at = 0;
  const starts: number[] = [];
  for (const x of xs) {
    starts.push(at);
    b.copyInto({ ...dst, shape: x.shape, strides, offset: at * strides[d] }, x.raw());
    at += x.shape[d];
  }
  return record('concat', out, xs, (g, _, need) => xs.map((x, i) => (need[i] ? narrow(g, d, starts[i], x.shape[d]) : null)));
}

/** Joins tensors of one shape along a new dim. */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('stack: needs at least one tensor');
  const d = normalizeAxis(dim, xs[0].rank + 1, 'stack');
  for (const x of xs) {
    if (x.rank !== xs[0].rank || x.shape.some((s, i) => s !== xs[0].shape[i])) {
      throw new ShapeError(`stack: shapes differ: ${xs.map((t) => fmtShape(t.shape)).join(', ')}`);
    }
  }
  const parts = xs.map((x) => unsqueeze(x, d));
  const out = concat(parts, d);
  for (const p of parts) p.dispose();
  return out;
}

/** Views of consecutive pieces along `dim`: pieces of `sizes[i]`, or of `sizes` each (the last may be smaller). */
export function split(x: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] {
  const d = normalizeAxis(dim, x.rank, 'split');
  const n = x.shape[d];
  let list: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new ShapeError(`split: size must be a positive integer, got ${sizes}`);
    list = [];
    for (let s = 0; s < n; s += sizes) list.push(Math.min(sizes, n - s));
  } else {
    list = [...sizes];
    if (list.reduce((a, b) => a + b, 0) !== n || list.some((s) => s < 0)) {
      throw new ShapeError(`split: sizes ${fmtShape(list)} do not add up to ${n}, dim ${dim} of ${fmtShape(x.shape)}`);
    }
  }
  let at = 0;
  return list.map((len) => {
    const part = narrow(x, d, at, len);
    at += len;
    return part;
  });
}

/** `chunks` nearly equal views along `dim` (torch.chunk). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  const d = normalizeAxis(dim, x.rank, 'chunk');
  return split(x, Math.max(1, Math.ceil(x.shape[d] / chunks)), d);
}
