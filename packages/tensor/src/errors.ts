/** Errors are part of the API: each kind has its own class so callers (and tests) can tell them apart. */
export class SiftError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit the op; the message names the op and both shapes. */
export class ShapeError extends SiftError {}
/** A dtype the op does not accept. */
export class DTypeError extends SiftError {}
/**
 * A dtype a backend does not store yet (float16/bfloat16 where that backend's half storage is still to be
 * written). Thrown where a storage would be made, so `supportsDtype` answers false for it.
 */
export class DTypeNotImplementedError extends DTypeError {
  constructor(
    readonly backend: string,
    readonly dtype: string,
    op: string,
  ) {
    super(`${dtype} storage is not implemented on the ${backend} backend yet (${op})`);
  }
}
/** A tensor used after `dispose()`. */
export class DisposedError extends SiftError {}
/** Misuse of autograd: backward through a non-scalar without a gradient, a freed graph, a non-float leaf. */
export class AutogradError extends SiftError {}
/** No backend, an unknown backend, or tensors from two backends in one op. */
export class BackendError extends SiftError {}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
