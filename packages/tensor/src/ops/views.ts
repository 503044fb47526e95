import { record } from '../autograd/record.js';
import { ShapeError, fmtShape } from '../errors.js';
import { contiguousStrides, normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { fromStorage } from './util.js';
import { sumTo } from './reduce.js';

/** Views share storage with their input: no copy, and their gradients are routed back by reshaping. */

/** A new handle on the same view, in the graph (identity). */
export function alias(x: Tensor): Tensor {
  return record('alias', x.restride(x.shape, x.strides, x.offset), [x], (g) => [g]);
}

/** `x` itself (as a new handle) if contiguous, else a contiguous copy. */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return alias(x);
  const b = x.backend;
  const out = fromStorage(b, b.copy(x.raw()), x.dtype, x.shape);
  return record('contiguous', out, [x], (g) => [g]);
}

function inferShape(x: Tensor, shape: readonly number[], op: string): number[] {
  const out = [...shape];
  const unknown = out.indexOf(-1);
  if (unknown !== out.lastIndexOf(-1)) throw new ShapeError(`${op}: only one dim may be -1, got ${fmtShape(shape)}`);
  if (unknown >= 0) {
    const known = sizeOf(out.filter((_, i) => i !== unknown));
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`);
    }
    out[unknown] = x.size / known;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(out) !== x.size) {
    throw new ShapeError(`${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`);
  }
  return out;
}

/**
 * Strides that let `newShape` view the same elements as (oldShape, oldStrides), or null when the memory layout
 * does not allow it. Dims are grouped into runs that are contiguous with each other; each run must map onto a
 * run of new dims with the same number of elements.
 */
function viewStrides(oldShape: readonly number[], oldStrides: readonly number[], newShape: readonly number[]): number[] | null {
  if (sizeOf(oldShape) === 0 || oldShape.length === 0) return contiguousStrides(newShape);
  const out = new Array<number>(newShape.length);
  let v = newShape.length - 1;
  let base = oldStrides[oldShape.length - 1];
  let oldNumel = 1;
  let newNumel = 1;
  for (let o = oldShape.length - 1; o >= 0; o--) {
    oldNumel *= oldShape[o];
    const runEnds = o === 0 || (oldShape[o - 1] !== 1 && oldStrides[o - 1] !== oldNumel * base);
    if (!runEnds) continue;
    while (v >= 0 && (newNumel < oldNumel || newShape[v] === 1)) {
      out[v] = newNumel * base;
      newNumel *= newShape[v];
      v--;
    }
    if (newNumel !== oldNumel) return null;
    if (o > 0) {
      base = oldStrides[o - 1];
      oldNumel = 1;
      newNumel = 1;
    }
  }
  return v === -1 ? out : null;
}

/** Same elements, another shape; a view when the layout allows, else a copy. One dim may be -1. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape(x, shape, 'reshape');
  const strides = viewStrides(x.shape, x.strides, s);
  if (strides) return viewAs(x, s, strides, 'reshape');
  const c = contiguous(x);
  const out = viewAs(c, s, contiguousStrides(s), 'reshape');
  c.dispose();
  return out;
}

/** Like reshape, but never copies: an error when the layout does not allow a view. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape(x, shape, 'view');
  const strides = viewStrides(x.shape, x.strides, s);
  if (!strides) {
    throw new ShapeError(
      `view: a tensor of shape ${fmtShape(x.shape)} and strides ${fmtShape(x.strides)} cannot be viewed as ${fmtShape(s)}; use reshape (which copies) or contiguous() first`,
    );
  }
  return viewAs(x, s, strides, 'view');
}

function viewAs(x: Tensor, shape: number[], strides: number[], name: string): Tensor {
  const inShape = x.shape;
  return record(name, x.restride(shape, strides, x.offset), [x], (g) => [reshape(g, inShape)]);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const r = x.rank;
  const d = dims.map((a) => normalizeAxis(a, r, 'permute'));
  if (d.length !== r || new Set(d).size !== r) {
    throw new ShapeError(`permute: dims ${fmtShape(dims)} are not a permutation of the ${r} dims of ${fmtShape(x.shape)}`);
  }
  const inverse = new Array<number>(r);
  d.forEach((a, i) => (inverse[a] = i));
  const out = x.restride(
    d.map((a) => x.shape[a]),
    d.map((a) => x.strides[a]),
    x.offset,
  );
  return record('permute', out, [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const r = x.rank;
  const a = normalizeAxis(dim0, r, 'transpose');
  const b = normalizeAxis(dim1, r, 'transpose');
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permute(x, perm);
}

/** Elements start, start+step, … (< end) along `dim`; a view. */
export function slice(x: Tensor, dim: number, start: number, end?: number, step = 1): Tensor {
  const d = normalizeAxis(dim, x.rank, 'slice');
  const n = x.shape[d];
  if (!Number.isInteger(step) || step <= 0) throw new ShapeError(`slice: step must be a positive integer, got ${step}`);
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const s = clampIdx(start);
  const e = Math.max(clampIdx(end ?? n), s);
  const len = Math.ceil((e - s) / step);
  const shape = [...x.shape];
  shape[d] = len;
  const strides = [...x.strides];
  strides[d] = x.strides[d] * step;
  const inShape = x.shape;
  const out = x.restride(shape, strides, x.offset + s * x.strides[d]);
  return record('slice', out, [x], (g) => [embedSlice(g, inShape, d, s, step)]);
}

/** `length` elements from `start` along `dim`; a view. Out-of-range bounds are an error (unlike slice). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normalizeAxis(dim, x.rank, 'narrow');
  const n = x.shape[d];
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new ShapeError(`narrow: start ${start} and length ${length} are out of range for dim ${dim} of ${fmtShape(x.shape)}`);
  }
  return slice(x, d, s, s + length);
}

/** The sub-tensor at `index` along `dim`, with that dim removed; a view. */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normalizeAxis(dim, x.rank, 'select');
  const n = x.shape[d];
  const i = index < 0 ? index + n : index;
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new ShapeError(`select: index ${index} is out of range for dim ${dim} of ${fmtShape(x.shape)}`);
  }
  const sliced = slice(x, d, i, i + 1);
  const out = squeeze(sliced, d);
  sliced.dispose();
  return out;
}

/** The gradient of a slice: g placed at its positions in zeros of the input's shape. */
function embedSlice(g: Tensor, shape: readonly number[], dim: number, start: number, step: number): Tensor {
  const b = g.backend;
  const out = fromStorage(b, b.alloc(g.dtype, sizeOf(shape)), g.dtype, shape);
  const strides = contiguousStrides(shape);
  const dst = out.raw();
  const ss = [...strides];
  ss[dim] = strides[dim] * step;
  b.copyInto({ ...dst, shape: g.shape, strides: ss, offset: start * strides[dim] }, g.raw());
  return out;
}

/** A view of `x` broadcast to `shape` (size-1 and new leading dims repeat with stride 0). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.rank;
  if (lead < 0) throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to fewer dims ${fmtShape(shape)}`);
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  const strides = target.map((d, i) => {
    const j = i - lead;
    if (j < 0) return 0;
    if (x.shape[j] === d) return x.strides[j];
    if (x.shape[j] === 1) return 0;
    throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (dim ${i}: ${x.shape[j]} vs ${d})`);
  });
  const inShape = x.shape;
  return record('expand', x.restride(target, strides, x.offset), [x], (g) => [sumTo(g, inShape)]);
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  let keep: number[];
  if (dim === undefined) keep = x.shape.map((_, i) => i).filter((i) => x.shape[i] !== 1);
  else {
    const d = normalizeAxis(dim, x.rank, 'squeeze');
    keep = x.shape.map((_, i) => i).filter((i) => i !== d || x.shape[i] !== 1);
  }
  const inShape = x.shape;
  const out = x.restride(
    keep.map((i) => x.shape[i]),
    keep.map((i) => x.strides[i]),
    x.offset,
  );
  return record('squeeze', out, [x], (g) => [reshape(g, inShape)]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeAxis(dim, x.rank + 1, 'unsqueeze');
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.rank ? x.strides[d] * x.shape[d] : 1);
  const inShape = x.shape;
  return record('unsqueeze', x.restride(shape, strides, x.offset), [x], (g) => [reshape(g, inShape)]);
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeAxis(startDim, x.rank, 'flatten');
  const e = normalizeAxis(endDim, x.rank, 'flatten');
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}
