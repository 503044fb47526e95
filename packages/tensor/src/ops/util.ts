import type { Backend, BackendStorage, View } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { type DType, isFloat } from '../dtype.js';
import { BackendError, DTypeError, fmtShape, ShapeError } from '../errors.js';
import { StorageRef } from '../memory/storage.js';
import { sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

export type Operand = Tensor | number;

/** Wraps a fresh contiguous storage a kernel returned. */
export function fromStorage(
  backend: Backend,
  storage: BackendStorage,
  dtype: DType,
  shape: readonly number[],
  tracked = true,
): Tensor {
  return new Tensor(new StorageRef(backend, storage, dtype, sizeOf(shape)), shape, undefined, 0, tracked);
}

/** The backend all inputs live on; tensors from two backends in one op are an error. */
export function backendOf(op: string, ...xs: (Tensor | null | undefined)[]): Backend {
  let b: Backend | null = null;
  for (const x of xs) {
    if (!x) continue;
    const xb = x.backend;
    if (b && xb !== b) {
      throw new BackendError(`${op}: inputs live on different backends ('${b.name}' and '${xb.name}'); move one with .to()`);
    }
    b = xb;
  }
  return b ?? getBackend();
}

/** A number as a 0-d tensor on `backend`; a float scalar with an int tensor makes a float32 one (as PyTorch). */
export function scalarLike(value: number, like: Tensor): Tensor {
  let dtype = like.dtype;
  if (!isFloat(dtype) && !Number.isInteger(value)) dtype = 'float32';
  if (dtype === 'bool') dtype = 'int32';
  const b = like.backend;
  return fromStorage(b, b.fill(dtype, 1, value), dtype, []);
}

export function scalarOn(backend: Backend, value: number, dtype: DType): Tensor {
  return fromStorage(backend, backend.fill(dtype, 1, value), dtype, []);
}

export function toTensor(x: Operand, like: Tensor): Tensor {
  return typeof x === 'number' ? scalarLike(x, like) : x;
}

/** A view of `t` broadcast to `shape` (0 strides on new and size-1 dims); no copy, no tensor handle. */
export function expandedView(t: Tensor, shape: readonly number[]): View {
  const v = t.raw();
  const lead = shape.length - t.rank;
  const strides = shape.map((d, i) => {
    const j = i - lead;
    if (j < 0) return 0;
    return t.shape[j] === d ? t.strides[j] : 0;
  });
  return { ...v, shape, strides };
}

export function requireFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype)) throw new DTypeError(`${op}: expected a float tensor, got ${t.dtype} of shape ${fmtShape(t.shape)}`);
}

export function requireDType(op: string, t: Tensor, ...dtypes: DType[]): void {
  if (!dtypes.includes(t.dtype)) {
    throw new DTypeError(`${op}: expected dtype ${dtypes.join(' or ')}, got ${t.dtype} of shape ${fmtShape(t.shape)}`);
  }
}

export function requireRank(op: string, t: Tensor, min: number, name = 'input'): void {
  if (t.rank < min) throw new ShapeError(`${op}: ${name} must have at least ${min} dims, got shape ${fmtShape(t.shape)}`);
}
