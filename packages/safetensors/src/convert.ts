import type { TypedArray } from '@siftjs/tensor';
import { LOADS_AS, quoted, SafetensorsError, ST_BITS, type StDType } from './format.js';

/** Converts stored little-endian bytes to the typed array the tensor loads as, and back for writing. */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half → float: exact (every half is a float). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float → IEEE half, rounding to nearest even (overflow → ±Infinity). */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rest > mid || (rest === mid && half & 1) ? half + 1 : half);
  }
  const half = mant >> 13;
  const rest = mant & 0x1fff;
  let out = (e << 10) | half;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) out++; // may carry into the exponent, which is right
  e = out >> 10;
  return sign | (e >= 31 ? 0x7c00 : out);
}

/** bfloat16 is the top half of a float32. */
export function bf16ToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

export function floatToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if (Number.isNaN(x)) return (bits >>> 16) | 0x40;
  const rounding = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + rounding) >>> 16) & 0xffff;
}

const LOADABLE = Object.keys(LOADS_AS).join(', ');

/**
 * Decodes a tensor's stored little-endian `bytes` into the array it loads as (LOADS_AS): half floats widen to
 * float32, integers become int32 — the unsigned 32-bit and the 64-bit ones only when every value fits, else a
 * SafetensorsError naming the first that does not. A dtype no tensor here can hold is a SafetensorsError too.
 */
export function decode(bytes: Uint8Array, dtype: StDType, file: string, name: string): TypedArray {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = (bytesEach: number) => bytes.length / bytesEach;
  const narrow = (count: number, get: (i: number) => bigint | number): Int32Array =>
    Int32Array.from({ length: count }, (_, i) => {
      const v = get(i);
      if (v > 2147483647 || v < -2147483648) {
        throw new SafetensorsError(file, `tensor ${quoted(name)}: ${dtype} value ${v} (element ${i}) does not fit in int32, the type integer tensors load as`);
      }
      return Number(v);
    });
  switch (dtype) {
    case 'F32':
      return Float32Array.from({ length: n(4) }, (_, i) => view.getFloat32(4 * i, true));
    case 'F64':
      return Float64Array.from({ length: n(8) }, (_, i) => view.getFloat64(8 * i, true));
    case 'F16':
      return Float32Array.from({ length: n(2) }, (_, i) => halfToFloat(view.getUint16(2 * i, true)));
    case 'BF16':
      return Float32Array.from({ length: n(2) }, (_, i) => bf16ToFloat(view.getUint16(2 * i, true)));
    case 'BOOL':
      return Uint8Array.from(bytes, (b) => (b ? 1 : 0));
    case 'I8':
      return Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    case 'U8':
      return Int32Array.from(bytes);
    case 'I16':
      return Int32Array.from({ length: n(2) }, (_, i) => view.getInt16(2 * i, true));
    case 'U16':
      return Int32Array.from({ length: n(2) }, (_, i) => view.getUint16(2 * i, true));
    case 'I32':
      return Int32Array.from({ length: n(4) }, (_, i) => view.getInt32(4 * i, true));
    case 'U32':
      return narrow(n(4), (i) => view.getUint32(4 * i, true));
    case 'I64':
      return narrow(n(8), (i) => view.getBigInt64(8 * i, true));
    case 'U64':
      return narrow(n(8), (i) => view.getBigUint64(8 * i, true));
    default:
      throw new SafetensorsError(file, `tensor ${quoted(name)}: dtype ${dtype} cannot be loaded as a tensor here (loadable: ${LOADABLE}); readBytes gives its stored bytes`);
  }
}

/** Encodes a tensor's elements as stored type `dtype`, little-endian. */
export function encode(values: TypedArray, dtype: StDType): Uint8Array {
  const n = values.length;
  const out = new Uint8Array((n * ST_BITS[dtype]) / 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    switch (dtype) {
      case 'F32': view.setFloat32(4 * i, v, true); break;
      case 'F64': view.setFloat64(8 * i, v, true); break;
      case 'F16': view.setUint16(2 * i, floatToHalf(v), true); break;
      case 'BF16': view.setUint16(2 * i, floatToBf16(v), true); break;
      case 'I32': view.setInt32(4 * i, v, true); break;
      case 'I64': view.setBigInt64(8 * i, BigInt(v), true); break;
      case 'BOOL': out[i] = v ? 1 : 0; break;
      default: throw new TypeError(`safetensors: encode writes F64, F32, F16, BF16, I64, I32 and BOOL, not ${dtype}`);
    }
  }
  return out;
}
