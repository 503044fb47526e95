import { type TypedArray, fromBFloat16Bits, fromFloat16Bits, toBFloat16Bits, toFloat16Bits } from '@siftjs/tensor';
import { LOADS_AS, quoted, SafetensorsError, ST_BITS, type StDType } from './format.js';

/** Converts stored little-endian bytes to the typed array the tensor loads as, and back for writing. */

/** IEEE half bits → its value (exact). Kept for existing callers: @siftjs/tensor's `fromFloat16Bits`. */
export const halfToFloat = fromFloat16Bits;
/** A number → IEEE half bits, rounded once to nearest even (overflow → ±Infinity): `toFloat16Bits`. */
export const floatToHalf = toFloat16Bits;
/** bfloat16 bits → its value (the top half of a float32): `fromBFloat16Bits`. */
export const bf16ToFloat = fromBFloat16Bits;
/** A number → bfloat16 bits, rounded once to nearest even: `toBFloat16Bits`. */
export const floatToBf16 = toBFloat16Bits;

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * A half tensor's stored bytes as its bit patterns (the file is little-endian): a view of the same bytes where the host
 * is little-endian too and they are 2-byte aligned (the bytes a file read returns), else decoded one by one.
 */
export function halfBits(bytes: Uint8Array): Uint16Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint16Array.from({ length: bytes.length / 2 }, (_, i) => view.getUint16(2 * i, true));
}

const LOADABLE = Object.keys(LOADS_AS).join(', ');

/**
 * Decodes a tensor's stored little-endian `bytes` into host values: half floats widened to float32 (exact; `read`
 * keeps them half, from `halfBits`), integers become int32 — the unsigned 32-bit and the 64-bit ones only when every value fits, else a
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
      return Float32Array.from({ length: n(2) }, (_, i) => fromFloat16Bits(view.getUint16(2 * i, true)));
    case 'BF16':
      return Float32Array.from({ length: n(2) }, (_, i) => fromBFloat16Bits(view.getUint16(2 * i, true)));
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

/**
 * Encodes a tensor's elements as stored type `dtype`, little-endian. `bits`: the values are already the 16-bit
 * patterns of `dtype` (F16 / BF16, from a half tensor), written unchanged.
 */
export function encode(values: TypedArray, dtype: StDType, bits = false): Uint8Array {
  const n = values.length;
  const out = new Uint8Array((n * ST_BITS[dtype]) / 8);
  const view = new DataView(out.buffer);
  if (bits) {
    if (dtype !== 'F16' && dtype !== 'BF16') throw new TypeError(`safetensors: half bit patterns are written as F16 or BF16, not ${dtype}`);
    for (let i = 0; i < n; i++) view.setUint16(2 * i, values[i], true);
    return out;
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    switch (dtype) {
      case 'F32': view.setFloat32(4 * i, v, true); break;
      case 'F64': view.setFloat64(8 * i, v, true); break;
      case 'F16': view.setUint16(2 * i, toFloat16Bits(v), true); break;
      case 'BF16': view.setUint16(2 * i, toBFloat16Bits(v), true); break;
      case 'I32': view.setInt32(4 * i, v, true); break;
      case 'I64': view.setBigInt64(8 * i, BigInt(v), true); break;
      case 'BOOL': out[i] = v ? 1 : 0; break;
      default: throw new TypeError(`safetensors: encode writes F64, F32, F16, BF16, I64, I32 and BOOL, not ${dtype}`);
    }
  }
  return out;
}
