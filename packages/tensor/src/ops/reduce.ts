import { record } from '../autograd/record.js';
import type { ReduceOp } from '../backend/backend.js';
import { ShapeError, fmtShape } from '../errors.js';
import { normalizeAxes, normalizeAxis, shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { expand, reshape, alias } from './views.js';
import { fromStorage } from './util.js';

type Axes = number | readonly number[] | undefined;

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function droppedShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.filter((_, i) => !axes.includes(i));
}

/** One reduce kernel; the result has the reduced dims kept as 1 or dropped. */
function reduceKernel(op: ReduceOp, x: Tensor, axes: readonly number[], keepdim: boolean): Tensor {
  const b = x.backend;
  const kept = keptShape(x.shape, axes);
  const dtype = op === 'sum' && (x.dtype === 'int32' || x.dtype === 'bool') ? 'int32' : x.dtype;
  if (x.size === 0 && op !== 'sum') {
    throw new ShapeError(`${op}: cannot reduce an empty tensor of shape ${fmtShape(x.shape)} (no identity)`);
  }
  const out = fromStorage(b, b.reduce(op, x.raw(), axes), dtype, kept);
  if (keepdim) return out;
  const dropped = reshape(out, droppedShape(x.shape, axes));
  out.dispose();
  return dropped;
}

export function sum(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  const ax = normalizeAxes(axes, x.rank, 'sum');
  if (ax.length === 0) return alias(x);
  const inShape = x.shape;
  const kept = keptShape(inShape, ax);
  return record('sum', reduceKernel('sum', x, ax, keepdim), [x], (g) => [expand(reshape(g, kept), inShape)]);
}

export function mean(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  const ax = normalizeAxes(axes, x.rank, 'mean');
  const n = sizeOf(ax.map((a) => x.shape[a]));
  const s = sum(x, ax, keepdim);
  const m = s.div(n);
  s.dispose();
  return m;
}

/** max/min over axes. The gradient is shared evenly among the elements that attain the extremum. */
function extremum(op: 'max' | 'min', x: Tensor, axes: Axes, keepdim: boolean): Tensor {
  const ax = normalizeAxes(axes, x.rank, op);
  if (ax.length === 0) return alias(x);
  const inShape = x.shape;
  const kept = keptShape(inShape, ax);
  const y = reduceKernel(op, x, ax, keepdim);
  return record(
    op,
    y,
    [x],
    (g, [xs, ys]) => {
      const hit = xs.eq(reshape(ys, kept)).cast(g.dtype);
      const count = sum(hit, ax, true);
      return [hit.mul(reshape(g, kept)).div(count)];
    },
    [x, y],
  );
}

export function max(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  return extremum('max', x, axes, keepdim);
}

export function min(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  return extremum('min', x, axes, keepdim);
}

/** Index of the first largest/smallest element along `axis` (over the flattened tensor when omitted); int32. */
function argExtremum(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepdim: boolean): Tensor {
  if (x.size === 0) throw new ShapeError(`${op}: empty tensor of shape ${fmtShape(x.shape)}`);
  if (axis === undefined) {
    const flat = reshape(x, [x.size]);
    const r = argExtremum(op, flat, 0, false);
    flat.dispose();
    if (!keepdim) return r;
    const k = reshape(r, x.shape.map(() => 1));
    r.dispose();
    return k;
  }
  const a = normalizeAxis(axis, x.rank, op);
  const b = x.backend;
  const out = fromStorage(b, b.argReduce(op, x.raw(), a), 'int32', keptShape(x.shape, [a]));
  if (keepdim) return out;
  const r = reshape(out, droppedShape(x.shape, [a]));
  out.dispose();
  return r;
}

export function argmax(x: Tensor, axis?: number, keepdim = false): Tensor {
  return argExtremum('argmax', x, axis, keepdim);
}

export function argmin(x: Tensor, axis?: number, keepdim = false): Tensor {
  return argExtremum('argmin', x, axis, keepdim);
}

/** Variance with Bessel's correction by default (`correction: 1`, like torch.var). */
export function variance(x: Tensor, axes?: Axes, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
  const ax = normalizeAxes(axes, x.rank, 'var');
  const n = sizeOf(ax.map((a) => x.shape[a]));
  const correction = opts.correction ?? 1;
  const m = mean(x, ax, true);
  const d = x.sub(m);
  const ss = sum(d.square(), ax, opts.keepdim ?? false);
  const v = ss.div(Math.max(0, n - correction));
  for (const t of [m, d, ss]) t.dispose();
  return v;
}

/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = sum(g, axes, true);
  const r = reshape(s, shape);
  s.dispose();
  return r;
}
