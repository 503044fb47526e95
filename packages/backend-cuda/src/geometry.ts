import { type CollapsedDims, collapseDims, contiguousStrides } from '@siftjs/tensor';
import { GEO_BYTES, MAX_OPERANDS, MAX_RANK } from './kernels/common.cu.js';

/**
 * Host side of the strided kernels: merging dims, and writing the Geo parameter block and kernel argument
 * lists as bytes (pure functions, so they are tested without a GPU).
 */

export type Walk = CollapsedDims;

/** Drops size-1 dims and merges neighbours that are contiguous for every operand (rank ≥ 1). */
export const collapse = collapseDims;

/** Row-major strides of a shape. */
export const contiguousStridesOf = contiguousStrides;

/** The Geo block: shape, per-operand strides and offsets, little-endian int64 (struct Geo in kernels/common.ts). */
export function packGeo(walk: Walk, offsets: readonly number[]): Uint8Array {
  const rank = walk.shape.length;
  if (rank > MAX_RANK) throw new RangeError(`CUDA kernels walk at most ${MAX_RANK} dims after merging, got ${rank}`);
  if (walk.strides.length > MAX_OPERANDS) throw new RangeError(`at most ${MAX_OPERANDS} operands`);
  const buf = new Uint8Array(GEO_BYTES);
  const dv = new DataView(buf.buffer);
  for (let d = 0; d < MAX_RANK; d++) dv.setBigInt64(8 * d, BigInt(d < rank ? walk.shape[d] : 1), true);
  walk.strides.forEach((s, k) => {
    for (let d = 0; d < rank; d++) dv.setBigInt64(8 * (MAX_RANK + k * MAX_RANK + d), BigInt(s[d]), true);
  });
  offsets.forEach((o, k) => dv.setBigInt64(8 * (MAX_RANK + MAX_OPERANDS * MAX_RANK + k), BigInt(o), true));
  return buf;
}

/** One kernel argument, as the C signature has it. */
export type Arg =
  | { t: 'ptr'; v: bigint }
  | { t: 'i64'; v: number }
  | { t: 'i32'; v: number }
  | { t: 'u32'; v: number }
  | { t: 'f64'; v: number }
  | { t: 'bytes'; v: Uint8Array };

export const ptr = (v: bigint): Arg => ({ t: 'ptr', v });
export const i64 = (v: number): Arg => ({ t: 'i64', v });
export const i32 = (v: number): Arg => ({ t: 'i32', v });
export const u32 = (v: number): Arg => ({ t: 'u32', v });
export const f64 = (v: number): Arg => ({ t: 'f64', v });
export const bytes = (v: Uint8Array): Arg => ({ t: 'bytes', v });

/**
 * Lays the arguments out in one byte block (each at 8-byte alignment) and returns it with each argument's
 * offset: cuLaunchKernel's kernelParams is then an array of (block address + offset).
 */
export function packArgs(args: readonly Arg[]): { data: Uint8Array; offsets: number[] } {
  let size = 0;
  const offsets = args.map((a) => {
    const at = size;
    size += Math.ceil((a.t === 'bytes' ? a.v.length : 8) / 8) * 8;
    return at;
  });
  const data = new Uint8Array(Math.max(size, 8));
  const dv = new DataView(data.buffer);
  args.forEach((a, i) => {
    const o = offsets[i];
    switch (a.t) {
      case 'ptr':
        dv.setBigUint64(o, a.v, true);
        break;
      case 'i64':
        dv.setBigInt64(o, BigInt(a.v), true);
        break;
      case 'i32':
        dv.setInt32(o, a.v, true);
        break;
      case 'u32':
        dv.setUint32(o, a.v >>> 0, true);
        break;
      case 'f64':
        dv.setFloat64(o, a.v, true);
        break;
      case 'bytes':
        data.set(a.v, o);
        break;
    }
  });
  return { data, offsets };
}
