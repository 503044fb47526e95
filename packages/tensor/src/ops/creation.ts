import { getBackend } from '../backend/registry.js';
import { type DType, type HalfDType, type TypedArray, arrayConstructor, dtypeOfArray, isDType, isHalf } from '../dtype.js';
import { arrayToHalfBits } from '../half.js';
import { getDefaultDtype } from '../default-dtype.js';
import { ShapeError, fmtShape, DTypeError } from '../errors.js';
import { checkShape, sizeOf } from '../shape.js';
import { record } from '../autograd/record.js';
import type { Tensor } from '../tensor.js';
import { fromStorage } from './util.js';

export type NestedArray = number | boolean | readonly NestedArray[];

export interface TensorOptions {
  shape?: readonly number[];
  dtype?: DType;
  requiresGrad?: boolean;
}

/**
 * A tensor from values: a number, nested arrays, or a flat array / typed array with `shape`. The dtype is the
 * typed array's, `bool` for booleans, else the default float dtype (float32; `setDefaultDtype`), unless `dtype` says
 * otherwise. Values given for a float16 or
 * bfloat16 tensor are numbers, rounded to nearest even (`tensorFromBits` takes bit patterns).
 */
export function tensor(values: NestedArray | ArrayLike<number>, opts: TensorOptions = {}): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  let natural: DType = getDefaultDtype();
  if (typeof values === 'number' || typeof values === 'boolean') {
    flat = [Number(values)];
    inferred = [];
    if (typeof values === 'boolean') natural = 'bool';
  } else if (ArrayBuffer.isView(values)) {
    flat = values as unknown as ArrayLike<number>;
    inferred = [flat.length];
    natural = dtypeOfArray(flat) ?? getDefaultDtype();
  } else {
    const acc: number[] = [];
    inferred = inferShape(values as NestedArray);
    const isBool = flatten(values as NestedArray, inferred, 0, acc);
    flat = acc;
    if (isBool) natural = 'bool';
  }
  if (opts.dtype !== undefined && !isDType(opts.dtype)) throw new DTypeError(`tensor: unknown dtype '${String(opts.dtype)}'`);
  const dtype = opts.dtype ?? natural;
  const shape = opts.shape ? checkShape(opts.shape, 'tensor') : inferred;
  if (sizeOf(shape) !== flat.length) {
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmtShape(shape)} (${sizeOf(shape)} elements)`);
  }
  const data = toTyped(flat, dtype);
  const b = getBackend();
  const t = fromStorage(b, b.upload(dtype, data), dtype, shape);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * A float16 or bfloat16 tensor from its 16-bit patterns (as a safetensors file stores them), no rounding; like
 * `torch.frombuffer(buf, dtype=torch.bfloat16)`. The array is copied.
 */
export function tensorFromBits(bits: Uint16Array, dtype: HalfDType, opts: { shape?: readonly number[]; requiresGrad?: boolean } = {}): Tensor {
  if (!isHalf(dtype)) throw new DTypeError(`tensorFromBits: dtype must be float16 or bfloat16, got '${String(dtype)}'`);
  const shape = opts.shape ? checkShape(opts.shape, 'tensorFromBits') : [bits.length];
  if (sizeOf(shape) !== bits.length) {
    throw new ShapeError(`tensorFromBits: ${bits.length} values do not fill shape ${fmtShape(shape)} (${sizeOf(shape)} elements)`);
  }
  const b = getBackend();
  const t = fromStorage(b, b.upload(dtype, bits), dtype, shape);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Host values in the array a backend uploads for `dtype` (half dtypes as rounded bit patterns). */
function toTyped(flat: ArrayLike<number>, dtype: DType): TypedArray {
  if (isHalf(dtype)) return arrayToHalfBits(flat, dtype);
  const Ctor = arrayConstructor(dtype);
  if (flat instanceof Ctor) return flat;
  const out = new Ctor(flat.length);
  for (let i = 0; i < flat.length; i++) out[i] = dtype === 'bool' ? (flat[i] ? 1 : 0) : flat[i];
  return out;
}

function inferShape(v: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

/** Flattens nested arrays, checking they are rectangular; returns whether the leaves were booleans. */
function flatten(v: NestedArray, shape: number[], depth: number, out: number[]): boolean {
  if (depth === shape.length) {
    if (Array.isArray(v)) throw new ShapeError(`tensor: ragged nested array (expected shape ${fmtShape(shape)})`);
    out.push(Number(v));
    return typeof v === 'boolean';
  }
  if (!Array.isArray(v) || v.length !== shape[depth]) {
    throw new ShapeError(`tensor: ragged nested array at depth ${depth} (expected shape ${fmtShape(shape)})`);
  }
  let isBool = false;
  for (const x of v) isBool = flatten(x, shape, depth + 1, out) || isBool;
  return isBool;
}

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  const s = checkShape(shape, 'full');
  const dtype = opts.dtype ?? getDefaultDtype();
  const b = getBackend();
  const t = fromStorage(b, b.fill(dtype, sizeOf(s), value), dtype, s);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/** A tensor to be filled by the caller (an initialiser, a copy_); its contents are unspecified. */
export function empty(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

function likeOn(x: Tensor, value: number, dtype?: DType): Tensor {
  const b = x.backend;
  const dt = dtype ?? x.dtype;
  return fromStorage(b, b.fill(dt, x.size, value), dt, x.shape);
}

export function fullLike(x: Tensor, value: number, dtype?: DType): Tensor {
  return likeOn(x, value, dtype);
}
export function zerosLike(x: Tensor, dtype?: DType): Tensor {
  return likeOn(x, 0, dtype);
}
export function onesLike(x: Tensor, dtype?: DType): Tensor {
  return likeOn(x, 1, dtype);
}

/** [start, end) by step, like torch.arange; int32 unless a bound or the step is fractional or dtype says. */
export function arange(start: number, end?: number, step = 1, opts: { dtype?: DType } = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new RangeError('arange: step must be non-zero');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const integral = [start, end, step].every(Number.isInteger);
  const dtype = opts.dtype ?? (integral ? 'int32' : getDefaultDtype());
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = start + i * step;
  const b = getBackend();
  return fromStorage(b, b.upload(dtype, toTyped(values, dtype)), dtype, [n]);
}

export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? getDefaultDtype();
  const values = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  const b = getBackend();
  const t = fromStorage(b, b.upload(dtype, toTyped(values, dtype)), dtype, [n, m]);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A contiguous copy with its own storage, differentiable. */
export function clone(x: Tensor): Tensor {
  const b = x.backend;
  const out = fromStorage(b, b.copy(x.raw()), x.dtype, x.shape);
  return record('clone', out, [x], (g) => [g]);
}

