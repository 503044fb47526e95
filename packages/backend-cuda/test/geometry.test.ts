import { describe, expect, it } from 'vitest';
import { collapse, f64, i32, i64, packArgs, packGeo, ptr, u32, bytes } from '../src/geometry.js';
import { GEO_BYTES } from '../src/kernels/common.cu.js';

describe('host-side geometry', () => {
  it('collapse merges contiguous dims for every operand and drops size-1 dims', () => {
    expect(collapse([2, 3, 4], [[12, 4, 1]])).toEqual({ shape: [24], strides: [[1]] });
    // a transposed operand keeps dims apart
    expect(collapse([2, 3], [[3, 1], [1, 2]])).toEqual({ shape: [2, 3], strides: [[3, 1], [1, 2]] });
    // a broadcast (stride 0) operand
    expect(collapse([4, 1, 5], [[5, 5, 1], [0, 0, 1]])).toEqual({ shape: [4, 5], strides: [[5, 1], [0, 1]] });
    expect(collapse([], [[]])).toEqual({ shape: [1], strides: [[1]] });
  });

  it('packGeo writes struct Geo: shape (padded with 1), strides per operand, offsets, little-endian int64', () => {
    const g = packGeo({ shape: [2, 3], strides: [[3, 1], [1, 2]] }, [0, 7]);
    expect(g.length).toBe(GEO_BYTES);
    const v = new BigInt64Array(g.buffer);
    expect(Array.from(v.slice(0, 6), Number)).toEqual([2, 3, 1, 1, 1, 1]);
    expect(Array.from(v.slice(6, 8), Number)).toEqual([3, 1]);
    expect(Array.from(v.slice(12, 14), Number)).toEqual([1, 2]);
    expect(Array.from(v.slice(30, 32), Number)).toEqual([0, 7]);
    expect(() => packGeo({ shape: [2, 2, 2, 2, 2, 2, 2], strides: [[64, 32, 16, 8, 4, 2, 1]] }, [0])).toThrow(/at most 6 dims/);
  });

  it('packArgs places each argument at 8-byte slots with its value', () => {
    const geo = new Uint8Array(GEO_BYTES).fill(9);
    const { data, offsets } = packArgs([ptr(0x7f00_0000_1000n), i64(-5), i32(-2), u32(0xffffffff), f64(0.5), bytes(geo)]);
    expect(offsets).toEqual([0, 8, 16, 24, 32, 40]);
    expect(data.length).toBe(40 + GEO_BYTES);
    const dv = new DataView(data.buffer);
    expect(dv.getBigUint64(0, true)).toBe(0x7f00_0000_1000n);
    expect(dv.getBigInt64(8, true)).toBe(-5n);
    expect(dv.getInt32(16, true)).toBe(-2);
    expect(dv.getUint32(24, true)).toBe(0xffffffff);
    expect(dv.getFloat64(32, true)).toBe(0.5);
    expect(data[40]).toBe(9);
  });
});
