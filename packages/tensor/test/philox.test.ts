import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  fillNormalF32,
  fillNormalF64,
  fillUint32,
  fillUniformF32,
  fillUniformF64,
  mulhi32,
  mulhilo,
  mullo32,
  philox4x32,
  splitSeed,
} from '../src/random/philox.js';

const hex = (a: Uint32Array) => Array.from(a, (x) => x.toString(16).padStart(8, '0')).join(' ');
const word = fc.integer({ min: 0, max: 0xffffffff });
const offsetArb = fc.oneof(fc.nat({ max: 1000 }), fc.nat({ max: Number.MAX_SAFE_INTEGER }));
const ONES = 0xffffffff;
const PI_CTR = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344];
const PI_KEY = [0xa4093822, 0x299f31d0];

type Fill = (out: never, seedLo: number, seedHi: number, offset: number) => void;
const fills: [string, Fill, new (n: number) => Uint32Array | Float32Array | Float64Array][] = [
  ['fillUint32', fillUint32 as Fill, Uint32Array],
  ['fillUniformF32', fillUniformF32 as Fill, Float32Array],
  ['fillUniformF64', fillUniformF64 as Fill, Float64Array],
  ['fillNormalF32', fillNormalF32 as Fill, Float32Array],
  ['fillNormalF64', fillNormalF64 as Fill, Float64Array],
];

function draw(fill: Fill, Arr: new (n: number) => Uint32Array | Float32Array | Float64Array, n: number, lo: number, hi: number, offset: number): number[] {
  const out = new Arr(n);
  fill(out as never, lo, hi, offset);
  return Array.from(out);
}

/** The block at request-block index b of stream (lo, hi, offset), straight from the documented layout. */
function layoutBlock(lo: number, hi: number, offset: number, b: number): Uint32Array {
  return philox4x32([b % 2 ** 32, Math.floor(b / 2 ** 32), offset % 2 ** 32, Math.floor(offset / 2 ** 32)], [lo, hi]);
}

function moments(x: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  const mean = s / x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += (x[i] - mean) ** 2;
  return { mean, variance: ss / x.length };
}

describe('philox4x32 known answers (Random123 kat_vectors)', () => {
  it.each([
    [10, [0, 0, 0, 0], [0, 0], '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
    [10, [ONES, ONES, ONES, ONES], [ONES, ONES], '408f276d 41c83b0e a20bc7c6 6d5451fd'],
    [10, PI_CTR, PI_KEY, 'd16cfe09 94fdcceb 5001e420 24126ea1'],
    [7, [0, 0, 0, 0], [0, 0], '5f6fb709 0d893f64 4f121f81 4f730a48'],
    [7, [ONES, ONES, ONES, ONES], [ONES, ONES], '5207ddc2 45165e59 4d8ee751 8c52f662'],
    [7, PI_CTR, PI_KEY, '4dfccaba 190a87f0 c47362ba b6b5242a'],
  ])('philox4x32 with %i rounds of counter %j under key %j is %s', (rounds, ctr, key, expected) => {
    expect(hex(philox4x32(ctr, key, rounds))).toBe(expected);
    expect(hex(philox4x32(Uint32Array.from(ctr), Uint32Array.from(key), rounds))).toBe(expected);
  });

  it('rounds defaults to 10', () => {
    expect(hex(philox4x32(PI_CTR, PI_KEY))).toBe('d16cfe09 94fdcceb 5001e420 24126ea1');
  });

  it('rejects malformed counters, keys and rounds', () => {
    expect(() => philox4x32([0, 0, 0], [0, 0])).toThrow(RangeError);
    expect(() => philox4x32([0, 0, 0, 0], [0])).toThrow(RangeError);
    expect(() => philox4x32([0, 0, 0, 2 ** 32], [0, 0])).toThrow(RangeError);
    expect(() => philox4x32([0, 0, 0, 0], [-1, 0])).toThrow(RangeError);
    expect(() => philox4x32([0, 0, 0, 0], [0, 0], 2.5)).toThrow(RangeError);
  });
});

describe('exact 32×32 → 64-bit multiply', () => {
  test.prop([word, word])('mulhilo(a, b) is the exact 64-bit product a·b split into [hi, lo]', (a, b) => {
    const p = BigInt(a) * BigInt(b);
    expect(mulhilo(a, b)).toEqual([Number(p >> 32n), Number(p & 0xffffffffn)]);
    expect(mulhi32(a, b)).toBe(Number(p >> 32n));
    expect(mullo32(a, b)).toBe(Number(p & 0xffffffffn));
  });

  it('mulhilo is exact at the extremes', () => {
    expect(mulhilo(ONES, ONES)).toEqual([0xfffffffe, 1]);
    expect(mulhilo(0, ONES)).toEqual([0, 0]);
    expect(mulhilo(0x10000, 0x10000)).toEqual([1, 0]);
    expect(mulhilo(0xd2511f53, ONES)).toEqual([0xd2511f52, 0x2daee0ad]);
  });
});

describe('stream layout', () => {
  test.prop([word, word, offsetArb, fc.integer({ min: 0, max: 23 })])(
    'raw word i is word i mod 4 of the block with counter [floor(i / 4), 0, offsetLo, offsetHi]',
    (lo, hi, offset, n) => {
      const words = draw(fillUint32 as Fill, Uint32Array, n, lo, hi, offset);
      for (let i = 0; i < n; i++) expect(words[i]).toBe(layoutBlock(lo, hi, offset, i >> 2)[i & 3]);
    },
  );

  test.prop([word, word, offsetArb, fc.integer({ min: 0, max: 23 })])(
    'uniform f32 i is (word i >>> 8)·2^-24 and uniform f64 i is ((hi >>> 5)·2^26 + (lo >>> 6))·2^-53 of words 2(i mod 2), +1 of block floor(i / 2)',
    (lo, hi, offset, n) => {
      const words = draw(fillUint32 as Fill, Uint32Array, 2 * n, lo, hi, offset);
      const u32 = draw(fillUniformF32 as Fill, Float32Array, n, lo, hi, offset);
      const u64 = draw(fillUniformF64 as Fill, Float64Array, n, lo, hi, offset);
      for (let i = 0; i < n; i++) {
        expect(u32[i]).toBe((words[i] >>> 8) * 2 ** -24);
        expect(u64[i]).toBe(((words[2 * i + 1] >>> 5) * 2 ** 26 + (words[2 * i] >>> 6)) * 2 ** -53);
      }
    },
  );

  test.prop([word, word, offsetArb, fc.integer({ min: 0, max: 23 })])(
    'normal i is Box–Muller of word pair (4⌊i/4⌋ + 2⌊(i mod 4)/2⌋, +1): cos for even i, sin for odd i',
    (lo, hi, offset, n) => {
      const words = draw(fillUint32 as Fill, Uint32Array, n + 1, lo, hi, offset);
      const z64 = draw(fillNormalF64 as Fill, Float64Array, n, lo, hi, offset);
      const z32 = draw(fillNormalF32 as Fill, Float32Array, n, lo, hi, offset);
      for (let i = 0; i < n; i++) {
        const p = i - (i & 1);
        const u1 = ((words[p] >>> 8) + 1) * 2 ** -24;
        const u2 = (words[p + 1] >>> 8) * 2 ** -24;
        const r = Math.sqrt(-2 * Math.log(u1));
        const z = i % 2 === 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2);
        expect(z64[i]).toBe(z);
        expect(z32[i]).toBe(Math.fround(z));
      }
    },
  );

  it('offsets of 2^32 and above carry into counter word 3', () => {
    const offset = 2 ** 32 * 7 + 5;
    const words = draw(fillUint32 as Fill, Uint32Array, 8, 1, 2, offset);
    expect(words.slice(0, 4)).toEqual(Array.from(philox4x32([0, 0, 5, 7], [1, 2])));
    expect(words.slice(4, 8)).toEqual(Array.from(philox4x32([1, 0, 5, 7], [1, 2])));
  });

  it.each(fills)('%s of an empty array is a no-op', (_name, fill, Arr) => {
    expect(draw(fill, Arr, 0, 1, 2, 3)).toEqual([]);
  });
});

describe.each(fills)('%s', (_name, fill, Arr) => {
  test.prop([word, word, offsetArb, fc.integer({ min: 0, max: 70 })])('is deterministic: the same (seed, offset) gives the same array', (lo, hi, offset, n) => {
    expect(draw(fill, Arr, n, lo, hi, offset)).toEqual(draw(fill, Arr, n, lo, hi, offset));
  });

  test.prop([word, word, fc.nat({ max: 2 ** 40 }), fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 40 })])(
    'obeys the prefix law: the first n of n + m elements are the n elements (the layout does not depend on n)',
    (lo, hi, offset, n, m) => {
      expect(draw(fill, Arr, n + m, lo, hi, offset).slice(0, n)).toEqual(draw(fill, Arr, n, lo, hi, offset));
    },
  );

  test.prop([word, word, fc.nat({ max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 20 })])(
    'different offsets give different streams',
    (lo, hi, offset, delta) => {
      expect(draw(fill, Arr, 8, lo, hi, offset)).not.toEqual(draw(fill, Arr, 8, lo, hi, offset + delta));
    },
  );

  test.prop([word, word, word, fc.nat({ max: 1000 })])('different seeds give different streams', (lo, hi, hi2, offset) => {
    fc.pre(hi !== hi2);
    expect(draw(fill, Arr, 8, lo, hi, offset)).not.toEqual(draw(fill, Arr, 8, lo, hi2, offset));
  });

  it('rejects offsets that are not integers in [0, 2^53) and seed words outside [0, 2^32)', () => {
    for (const offset of [-1, 0.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => draw(fill, Arr, 1, 0, 0, offset)).toThrow(RangeError);
    for (const w of [-1, 2 ** 32, 1.5, Number.NaN]) {
      expect(() => draw(fill, Arr, 1, w, 0, 0)).toThrow(RangeError);
      expect(() => draw(fill, Arr, 1, 0, w, 0)).toThrow(RangeError);
    }
  });
});

describe('value ranges', () => {
  test.prop([word, word, offsetArb, fc.integer({ min: 1, max: 200 })])('uniforms (f32 and f64) lie in [0, 1) and are never NaN', (lo, hi, offset, n) => {
    for (const u of [draw(fillUniformF32 as Fill, Float32Array, n, lo, hi, offset), draw(fillUniformF64 as Fill, Float64Array, n, lo, hi, offset)]) {
      expect(u.filter((v) => !(v >= 0 && v < 1))).toEqual([]);
    }
  });

  test.prop([word, word, offsetArb, fc.integer({ min: 1, max: 200 })])(
    'normals (f32 and f64) are finite and bounded by sqrt(-2 ln 2^-24), the largest radius 24-bit uniforms give',
    (lo, hi, offset, n) => {
      const bound = Math.sqrt(48 * Math.LN2) + 1e-6;
      for (const z of [draw(fillNormalF32 as Fill, Float32Array, n, lo, hi, offset), draw(fillNormalF64 as Fill, Float64Array, n, lo, hi, offset)]) {
        expect(z.filter((v) => !(Number.isFinite(v) && Math.abs(v) <= bound))).toEqual([]);
      }
    },
  );

  test.prop([word, word, offsetArb, fc.integer({ min: 1, max: 100 })])('float32 normals are the float64 normals rounded to float32', (lo, hi, offset, n) => {
    const z64 = draw(fillNormalF64 as Fill, Float64Array, n, lo, hi, offset);
    expect(draw(fillNormalF32 as Fill, Float32Array, n, lo, hi, offset)).toEqual(z64.map(Math.fround));
  });
});

describe('statistics on 100k samples', () => {
  const n = 100_000;
  it.each([
    ['fillUniformF32', fillUniformF32 as Fill, Float32Array],
    ['fillUniformF64', fillUniformF64 as Fill, Float64Array],
  ] as const)('%s has mean 0.5 ± 0.01 and variance 1/12 ± 0.005', (_name, fill, Arr) => {
    const m = moments(draw(fill, Arr, n, 0x1234, 0x5678, 9));
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(m.variance - 1 / 12)).toBeLessThan(0.005);
  });

  it.each([
    ['fillNormalF32', fillNormalF32 as Fill, Float32Array],
    ['fillNormalF64', fillNormalF64 as Fill, Float64Array],
  ] as const)('%s has mean 0 ± 0.02 and variance 1 ± 0.03', (_name, fill, Arr) => {
    const m = moments(draw(fill, Arr, n, 0x9abc, 0xdef0, 11));
    expect(Math.abs(m.mean)).toBeLessThan(0.02);
    expect(Math.abs(m.variance - 1)).toBeLessThan(0.03);
  });
});

describe('splitSeed', () => {
  test.prop([fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })])('splits a bigint seed into words with seed = lo + hi·2^32', (seed) => {
    const [lo, hi] = splitSeed(seed);
    expect(Number.isInteger(lo) && lo >= 0 && lo < 2 ** 32).toBe(true);
    expect(Number.isInteger(hi) && hi >= 0 && hi < 2 ** 32).toBe(true);
    expect(BigInt(lo) + (BigInt(hi) << 32n)).toBe(seed);
  });

  test.prop([fc.nat({ max: Number.MAX_SAFE_INTEGER })])('splits a safe-integer number the same way as the equal bigint', (seed) => {
    expect(splitSeed(seed)).toEqual(splitSeed(BigInt(seed)));
  });

  it('accepts 2^64 - 1 and rejects negative, fractional, unsafe or too-large seeds with a RangeError', () => {
    expect(splitSeed(2n ** 64n - 1n)).toEqual([ONES, ONES]);
    for (const bad of [-1, 0.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, -1n, 2n ** 64n]) expect(() => splitSeed(bad)).toThrow(RangeError);
  });
});
