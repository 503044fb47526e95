/**
 * A deliberately naive float64 tensor for checking the library: a shape and a row-major, contiguous
 * Float64Array. Every function in tests/reference is written straight from the definition, with no tricks, and
 * imports nothing from the packages under test — only its sibling files.
 */
export interface Ref {
  shape: number[];
  data: Float64Array;
}

function checkShape(shape: readonly number[], what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${what}: bad dimension ${d} in [${shape}]`);
  }
}

/** Number of elements of a shape (1 for the scalar shape []). */
export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A Ref with a copy of `data` (which must hold exactly size(shape) values). */
export function ref(shape: readonly number[], data: ArrayLike<number>): Ref {
  checkShape(shape, 'ref');
  if (data.length !== size(shape)) throw new Error(`ref: ${data.length} values for shape [${shape}]`);
  return { shape: [...shape], data: Float64Array.from(data) };
}

/** A rank-0 Ref. */
export function scalar(v: number): Ref {
  return ref([], [v]);
}

/** A Ref of the given shape filled with `value`. */
export function full(shape: readonly number[], value: number): Ref {
  checkShape(shape, 'full');
  return { shape: [...shape], data: new Float64Array(size(shape)).fill(value) };
}

/** Row-major strides (in elements) of a contiguous tensor of this shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Multi-index of flat (row-major) position `flat` in `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

/** Flat (row-major) position of multi-index `idx` in `shape`; the inverse of unravel. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  if (idx.length !== shape.length) throw new Error(`ravel: index [${idx}] for shape [${shape}]`);
  let flat = 0;
  for (let i = 0; i < shape.length; i++) {
    if (!Number.isInteger(idx[i]) || idx[i] < 0 || idx[i] >= shape[i]) throw new Error(`ravel: index [${idx}] out of range for [${shape}]`);
    flat = flat * shape[i] + idx[i];
  }
  return flat;
}

/** Same as ravel: the flat position of a multi-index. */
export const index = ravel;

/** The element of x at multi-index `idx`. */
export function get(x: Ref, idx: readonly number[]): number {
  return x.data[ravel(idx, x.shape)];
}

/** Normalises a possibly negative axis against `rank`, throwing when out of range. */
export function axis(a: number, rank: number): number {
  if (!Number.isInteger(a)) throw new Error(`axis ${a} is not an integer`);
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) throw new Error(`axis ${a} out of range for rank ${rank}`);
  return r;
}

/** NumPy broadcasting: align on the right; each pair of dims must be equal or one of them 1. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a}] and [${b}]`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * The element of x read at position `idx` of a broadcast shape (idx has at least x's rank; x's dims of size 1
 * are read at 0). The caller is responsible for the shapes being compatible.
 */
export function readBroadcast(x: Ref, idx: readonly number[]): number {
  const lead = idx.length - x.shape.length;
  let flat = 0;
  for (let i = 0; i < x.shape.length; i++) flat = flat * x.shape[i] + (x.shape[i] === 1 ? 0 : idx[lead + i]);
  return x.data[flat];
}

/** x broadcast (materialised) to `shape`; throws unless x broadcasts to exactly that shape. */
export function broadcastTo(x: Ref, shape: readonly number[]): Ref {
  checkShape(shape, 'broadcastTo');
  let ok = x.shape.length <= shape.length;
  if (ok) {
    const b = broadcastShapes(x.shape, shape);
    ok = b.every((d, i) => d === shape[i]);
  }
  if (!ok) throw new Error(`cannot broadcast [${x.shape}] to [${shape}]`);
  const out = new Float64Array(size(shape));
  for (let f = 0; f < out.length; f++) out[f] = readBroadcast(x, unravel(f, shape));
  return { shape: [...shape], data: out };
}

/** Elementwise f over x, into a new Ref. */
export function map(x: Ref, f: (v: number) => number): Ref {
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]);
  return { shape: [...x.shape], data: out };
}

/** Elementwise f over a and b broadcast together, into a new Ref. */
export function zip(a: Ref, b: Ref, f: (x: number, y: number) => number): Ref {
  const shape = broadcastShapes(a.shape, b.shape);
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = f(readBroadcast(a, idx), readBroadcast(b, idx));
  }
  return { shape, data: out };
}

/** A deep copy. */
export function clone(x: Ref): Ref {
  return { shape: [...x.shape], data: x.data.slice() };
}
