import { type DType, type TypedArray, contiguousStrides, fromBFloat16Bits, fromFloat16Bits, halfBitsToHalfBits, isHalf, toBFloat16Bits, toFloat16Bits } from '@siftjs/tensor';
import { type Geometry, collapse, forEachRow } from './strided.js';

/** Copies a strided view into a strided destination of the same shape (conversion by the typed arrays). */
export function copyStrided(src: TypedArray, sg: Geometry, dst: TypedArray, dg: Geometry, convert?: (x: number) => number): void {
  const walk = collapse(sg.shape, [sg.strides, dg.strides]);
  const last = walk.shape.length - 1;
  const ss = walk.strides[0][last];
  const ds = walk.strides[1][last];
  forEachRow(walk, [sg.offset, dg.offset], (off, n) => {
    let i = off[0];
    let k = off[1];
    if (convert) for (let j = 0; j < n; j++, i += ss, k += ds) dst[k] = convert(src[i]);
    else if (ss === 1 && ds === 1 && src.constructor === dst.constructor) dst.set(src.subarray(i, i + n), k);
    // a broadcast value (an expanded scalar gradient, a bias column): one fill
    else if (ss === 0 && ds === 1) dst.fill(src[i], k, k + n);
    else for (let j = 0; j < n; j++, i += ss, k += ds) dst[k] = src[i];
  });
}

/**
 * How a stored element of `from` becomes one of `to` (undefined: the typed arrays' own store converts, or the dtypes
 * are the same): to int truncates toward zero (NaN → 0), to bool is "non-zero" (NaN is true), to a half dtype rounds
 * to nearest even once from the exact value; a half element is read as its value first.
 */
export function converter(from: DType, to: DType): ((x: number) => number) | undefined {
  if (from === to) return undefined;
  // Between the half formats as patterns: a NaN's sign does not survive a trip through a number.
  if (isHalf(from) && isHalf(to)) return (h) => halfBitsToHalfBits(h, from, to);
  const store = storeAs(to);
  if (!isHalf(from)) return store;
  const load = from === 'bfloat16' ? fromBFloat16Bits : fromFloat16Bits;
  return store ? (x) => store(load(x)) : load;
}

function storeAs(to: DType): ((x: number) => number) | undefined {
  if (to === 'bool') return (x) => (x !== 0 && x === x ? 1 : x !== x ? 1 : 0);
  if (to === 'int32') return (x) => (x !== x ? 0 : Math.trunc(x) | 0);
  if (to === 'float16') return toFloat16Bits;
  if (to === 'bfloat16') return toBFloat16Bits;
  return undefined;
}

/** The geometry of a fresh contiguous storage of `shape`. */
export function contiguousGeometry(shape: readonly number[]): Geometry {
  return { shape, strides: contiguousStrides(shape), offset: 0 };
}
