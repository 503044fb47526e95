import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  fillNormalF32,
  fillNormalF64,
  fillUint32,
  fillUniformF32,
  fillUniformF64,
  mulhi32,
  mullo32,
  philox4x32,
} from '../src/random/philox.js';

const hex = (a: Uint32Array) => Array.from(a, (x) => x.toString(16).padStart(8, '0')).join(' ');
const word = fc.integer({ min: 0, max: 0xffffffff });

describe('Philox 4x32', () => {
  // Known-answer vectors published with Random123 (kat_vectors: philox4x32 with 10 rounds).
  it.each([
    [[0, 0, 0, 0], [0, 0], '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], '408f276d 41c83b0e a20bc7c6 6d5451fd'],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], 'd16cfe09 94fdcceb 5001e420 24126ea1'],
  ])('philox4x32-10 of counter %j under key %j is %s (Random123 known answer)', (ctr, key, expected) => {
    expect(hex(philox4x32(ctr, key))).toBe(expected);
  });

  test.prop([word, word])('the 32×32-bit product splits exactly into mulhi32 and mullo32', (a, b) => {
    const p = BigInt(a) * BigInt(b);
    expect(mulhi32(a, b)).toBe(Number(p >> 32n));
    expect(mullo32(a, b)).toBe(Number(p & 0xffffffffn));
  });

  test.prop([fc.tuple(word, word, word, word), fc.tuple(word, word)])('fewer rounds give a different block (rounds is honoured)', (c, k) => {
    expect(hex(philox4x32(c, k, 7))).not.toBe(hex(philox4x32(c, k, 10)));
  });

  test.prop([word, word, fc.nat({ max: 2 ** 40 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 40 })])(
    'the stream is a prefix law: n then n + m elements agree on the first n (layout independent of n)',
    (lo, hi, offset, n, m) => {
      for (const fill of [fillUniformF32, fillNormalF32] as const) {
        const a = new Float32Array(n);
        const b = new Float32Array(n + m);
        fill(a, lo, hi, offset);
        fill(b, lo, hi, offset);
        expect(Array.from(b.subarray(0, n))).toEqual(Array.from(a));
      }
      const a64 = new Float64Array(n);
      const b64 = new Float64Array(n + m);
      fillUniformF64(a64, lo, hi, offset);
      fillUniformF64(b64, lo, hi, offset);
      expect(Array.from(b64.subarray(0, n))).toEqual(Array.from(a64));
    },
  );

  test.prop([word, word, fc.nat({ max: 2 ** 40 })])('element i is word i mod 4 of the block at counter (i/4, offset)', (lo, hi, offset) => {
    const words = new Uint32Array(9);
    fillUint32(words, lo, hi, offset);
    const oLo = offset % 2 ** 32;
    const oHi = Math.floor(offset / 2 ** 32);
    for (let i = 0; i < 9; i++) expect(words[i]).toBe(philox4x32([i >> 2, 0, oLo, oHi], [lo, hi])[i & 3]);
  });

  test.prop([word, word, fc.nat({ max: 1000 })])('different offsets give different streams; the same inputs the same stream', (lo, hi, offset) => {
    const a = new Float32Array(8);
    const b = new Float32Array(8);
    const c = new Float32Array(8);
    fillUniformF32(a, lo, hi, offset);
    fillUniformF32(b, lo, hi, offset);
    fillUniformF32(c, lo, hi, offset + 1);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('uniforms lie in [0, 1) with the moments of U(0, 1); normals are finite with the moments of N(0, 1)', () => {
    const n = 100_000;
    const moments = (x: ArrayLike<number>) => {
      let s = 0;
      let ss = 0;
      for (let i = 0; i < x.length; i++) {
        s += x[i];
        ss += x[i] * x[i];
      }
      const mean = s / x.length;
      return { mean, variance: ss / x.length - mean * mean };
    };
    const u32 = new Float32Array(n);
    const u64 = new Float64Array(n);
    fillUniformF32(u32, 1, 2, 3);
    fillUniformF64(u64, 1, 2, 3);
    for (const u of [u32, u64]) {
      expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
      const m = moments(u);
      expect(Math.abs(m.mean - 0.5)).toBeLessThan(0.01);
      expect(Math.abs(m.variance - 1 / 12)).toBeLessThan(0.005);
    }
    const z32 = new Float32Array(n);
    const z64 = new Float64Array(n);
    fillNormalF32(z32, 4, 5, 6);
    fillNormalF64(z64, 4, 5, 6);
    expect(z64.every(Number.isFinite)).toBe(true);
    const m = moments(z64);
    expect(Math.abs(m.mean)).toBeLessThan(0.02);
    expect(Math.abs(m.variance - 1)).toBeLessThan(0.03);
    // float32 normals are the float64 ones rounded.
    expect(Array.from(z32.subarray(0, 100))).toEqual(Array.from(Float32Array.from(z64.subarray(0, 100))));
  });

  it('rejects offsets that are not non-negative safe integers', () => {
    expect(() => fillUniformF32(new Float32Array(1), 0, 0, -1)).toThrow(RangeError);
    expect(() => fillUniformF32(new Float32Array(1), 0, 0, 0.5)).toThrow(RangeError);
  });
});
