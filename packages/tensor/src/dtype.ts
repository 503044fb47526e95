/**
 * Element types. `float64` exists so gradients can be checked in double precision; `bool` holds masks;
 * `float16` (IEEE binary16) and `bfloat16` (the top half of a float32) hold half-precision weights, stored as the
 * 16-bit patterns (a `Uint16Array`) — conversions in half.ts.
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bool' | 'float16' | 'bfloat16';

/** The two 16-bit float formats. */
export type HalfDType = 'float16' | 'bfloat16';

/** A storage's elements as a backend uploads and reads them; half dtypes are their bit patterns. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array;

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : D extends HalfDType
        ? Uint16Array
        : Uint8Array;

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1, float16: 2, bfloat16: 2 };

export function bytesPerElement(dtype: DType): number {
  return BYTES[dtype];
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

/** float16 or bfloat16: stored as 16-bit patterns, computed in float32 on the CPU. */
export function isHalf(dtype: DType): dtype is HalfDType {
  return dtype === 'float16' || dtype === 'bfloat16';
}

/** The typed array a storage of `dtype` is uploaded and read as (`Uint16Array` of bit patterns for the halves). */
export function arrayConstructor(dtype: DType) {
  switch (dtype) {
    case 'float32':
      return Float32Array;
    case 'float64':
      return Float64Array;
    case 'int32':
      return Int32Array;
    case 'bool':
      return Uint8Array;
    case 'float16':
    case 'bfloat16':
      return Uint16Array;
  }
}

export function makeArray(dtype: DType, length: number): TypedArray {
  return new (arrayConstructor(dtype))(length);
}

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64' || x === 'int32' || x === 'bool' || x === 'float16' || x === 'bfloat16';
}

/**
 * The dtype a kernel carries `dtype`'s arithmetic in and keeps what must not lose precision in (PyTorch's "opmath"
 * type): float32 for float16 / bfloat16, the dtype itself otherwise. A layer norm's or RMS norm's saved statistics
 * are in it: rounded to a half format, a row's mean would move every deviation x − μ by up to half an ulp of μ.
 */
export function opmathDtype(dtype: DType): DType {
  return isHalf(dtype) ? 'float32' : dtype;
}

/**
 * The dtype both operands of a binary op are computed in: PyTorch's promotion. A float beats an int or bool; of two
 * floats the wider wins, except float16 with bfloat16, which neither holds, gives float32.
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  if (isHalf(a) && isHalf(b)) return 'float32';
  if (isHalf(a)) return a;
  if (isHalf(b)) return b;
  return 'int32';
}

/**
 * The dtype a typed array naturally holds, for `tensor(typedArray)`. A `Uint16Array` has none: it could be bit
 * patterns of either half format, so `tensorFromBits` takes those with their dtype named.
 */
export function dtypeOfArray(a: ArrayLike<number>): DType | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  return undefined;
}
