import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { BFLOAT16, BINARY16, decodeHalf, type HalfFormat, roundToHalf } from '../../../tests/reference/half-format.js';
import {
  arrayToHalfBits,
  float32BitsToBFloat16Bits,
  float32BitsToFloat16Bits,
  fromBFloat16Bits,
  fromFloat16Bits,
  halfBitsToFloat32Array,
  toBFloat16Bits,
  toFloat16Bits,
} from '../src/half.js';

/** src/half.ts against float16 and bfloat16 written from IEEE 754's definitions (tests/reference/half-format.ts). */

interface Impl {
  f: HalfFormat;
  widen(bits: number): number;
  narrow(x: number): number;
  narrowF32Bits(u: number): number;
}

const IMPLS: Impl[] = [
  { f: BINARY16, widen: fromFloat16Bits, narrow: toFloat16Bits, narrowF32Bits: float32BitsToFloat16Bits },
  { f: BFLOAT16, widen: fromBFloat16Bits, narrow: toBFloat16Bits, narrowF32Bits: float32BitsToBFloat16Bits },
];

const ALL_PATTERNS = Uint16Array.from({ length: 65536 }, (_, i) => i);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function f32FromBits(u: number): number {
  u32[0] = u;
  return f32[0];
}

/** The narrowing result equals the reference's: the same pattern, or for NaN a quiet NaN of the same sign. */
function expectRounded(got: number, x: number, f: HalfFormat, via: string): void {
  const want = roundToHalf(x, f);
  const label = `${via}(${Object.is(x, -0) ? '-0' : x})`;
  if (want.nan) {
    const expMask = ((1 << f.expBits) - 1) << f.mantBits;
    const quiet = 1 << (f.mantBits - 1);
    expect((got & expMask) === expMask && (got & quiet) !== 0, `${label} = 0x${got.toString(16)} is a quiet NaN`).toBe(true);
    expect(got >> 15, `${label} keeps the sign`).toBe(want.sign);
  } else {
    expect(got.toString(16), label).toBe(want.bits.toString(16));
  }
}

/** Values of both formats' corner cases, as float32 bit patterns and as doubles. */
const EDGE_F32_BITS = [
  0x00000000, 0x80000000, 0x7f800000, 0xff800000, // ±0, ±∞
  0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fa00000, 0x7fffffff, 0x7f802000, // NaNs, payloads in low bits only
  0x00000001, 0x80000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, // float32 subnormals, smallest normal, max
  0x7f7f7fff, 0x7f7f8000, 0x7f7f8001, 0x7f7effff, 0x7f7e8000, // bfloat16: just below / at / past its overflow tie
  0x3f808000, 0x3f818000, 0x3f807fff, 0x3f808001, // bfloat16 ties at 1 both ways (to even down, to even up)
  0x00008000, 0x00018000, 0x00007fff, 0x80008000, // bfloat16 subnormal ties
];
const EDGE_VALUES = [
  65504, 65519.99609375, 65520, 65536, -65520, 65519, // float16 max; just below the tie to ∞ (→ max); the tie (→ ∞)
  1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -23, 1 + 2 ** -11 - 2 ** -23, // float16 ties at 1, both ways
  2 ** -24, 2 ** -25, 2 ** -25 + 2 ** -40, 3 * 2 ** -25, 5 * 2 ** -25, 2 ** -26, -(2 ** -26), // subnormal ties
  2 ** -14, 2 ** -14 - 2 ** -25, 2 ** -14 - 2 ** -24, 1023 * 2 ** -24, // the subnormal / normal boundary
  2 ** -133, 2 ** -134, 3 * 2 ** -134, 2 ** -126, // bfloat16's smallest subnormal, its tie to 0, the smallest normal
  3.3895313892515355e38, 3.3961775292304e38, 3.4e38, 1e300, 5e-324, -5e-324, // bfloat16 max and past it; doubles
  1 + 2 ** -11 + 2 ** -40, 1 + 2 ** -8 + 2 ** -40, 1 + 2 ** -8, // ties a double breaks but a float32 would not
];

describe.each(IMPLS)('$f.name', ({ f, widen, narrow, narrowF32Bits }) => {
  const dtype = f.name;

  it(`widens every one of the 65536 ${f.name} patterns to the value IEEE's formula gives`, () => {
    const bulk = halfBitsToFloat32Array(ALL_PATTERNS, dtype);
    const bulkBits = new Uint32Array(bulk.buffer);
    for (let b = 0; b < 65536; b++) {
      const want = decodeHalf(b, f);
      if (Number.isNaN(want)) {
        expect(Number.isNaN(widen(b)), `0x${b.toString(16)}`).toBe(true);
        expect(Number.isNaN(bulk[b]), `bulk 0x${b.toString(16)}`).toBe(true);
        expect(bulkBits[b] >>> 31, `bulk 0x${b.toString(16)} keeps its sign`).toBe(b >> 15);
        // the payload too, signalling NaNs staying signalling: widening is exact on the bits
        const payload = f.mantBits === 10 ? (b & 0x3ff) << 13 : (b & 0x7f) << 16;
        const want = (((b & 0x8000) << 16) | 0x7f800000 | payload) >>> 0;
        if (bulkBits[b] !== want) expect(bulkBits[b].toString(16), `bulk 0x${b.toString(16)} keeps its payload`).toBe(want.toString(16));
      } else {
        if (!Object.is(widen(b), want)) expect(widen(b), `0x${b.toString(16)}`).toBe(want);
        if (!Object.is(bulk[b], want)) expect(bulk[b], `bulk 0x${b.toString(16)}`).toBe(want);
      }
    }
  });

  it(`narrows every non-NaN ${f.name} value back to its own pattern, from a double and from float32 bits`, () => {
    const values = halfBitsToFloat32Array(ALL_PATTERNS, dtype);
    const back = arrayToHalfBits(values, dtype);
    const backFromDoubles = arrayToHalfBits(Float64Array.from(values), dtype);
    for (let b = 0; b < 65536; b++) {
      if (Number.isNaN(decodeHalf(b, f))) continue;
      if (narrow(values[b]) !== b) expect(narrow(values[b]).toString(16), `0x${b.toString(16)}`).toBe(b.toString(16));
      if (back[b] !== b || backFromDoubles[b] !== b) expect([back[b], backFromDoubles[b]], `0x${b.toString(16)}`).toEqual([b, b]);
    }
  });

  it('rounds the edge cases of both formats as IEEE 754 round-to-nearest-even does', () => {
    for (const u of EDGE_F32_BITS) {
      const x = f32FromBits(u);
      expectRounded(narrowF32Bits(u), x, f, `float32 bits 0x${u.toString(16)} →`);
      expectRounded(arrayToHalfBits(Float32Array.of(x), dtype)[0], x, f, 'bulk float32');
      if (!Number.isNaN(x)) expectRounded(narrow(x), x, f, 'number');
    }
    for (const x of EDGE_VALUES) {
      expectRounded(narrow(x), x, f, 'number');
      expectRounded(arrayToHalfBits([x], dtype)[0], x, f, 'bulk number');
      const x32 = Math.fround(x);
      expectRounded(arrayToHalfBits(Float32Array.of(x32), dtype)[0], x32, f, 'bulk float32');
    }
  });

  it('keeps a NaN a NaN with its sign, quieted, with the top of its payload (F16C / ARM convert behaviour)', () => {
    // a signalling NaN whose payload sits only in float32's low bits must not truncate to ∞
    expect(narrowF32Bits(0x7f800001)).toBe(f.mantBits === 10 ? 0x7e00 : 0x7fc0);
    expect(narrowF32Bits(0xff800001)).toBe(f.mantBits === 10 ? 0xfe00 : 0xffc0);
    // the payload's top bits survive: float32 0x7fa00000 has payload 0b01 at its top
    expect(narrowF32Bits(0x7fa00000)).toBe(f.mantBits === 10 ? 0x7f00 : 0x7fe0);
  });

  test.prop([fc.integer({ min: 0, max: 0xffffffff })], { numRuns: 20000 })(
    `rounds random float32 bit patterns to the nearest ${f.name} (ties to even, overflow to ∞)`,
    (u) => {
      const x = f32FromBits(u);
      expectRounded(narrowF32Bits(u), x, f, 'float32 bits');
      if (!Number.isNaN(x)) expectRounded(narrow(x), x, f, 'number');
    },
  );

  test.prop([fc.float({ noDefaultInfinity: false }), fc.integer({ min: -20, max: 20 })], { numRuns: 5000 })(
    `rounds random float32 values near ${f.name}'s range (scaled into it) to the nearest value`,
    (x, k) => {
      // fc.float spreads over float32's exponents; scaling by 2^k moves many into float16's narrow range
      const y = Math.fround(x * 2 ** k);
      expectRounded(arrayToHalfBits(Float32Array.of(y), dtype)[0], y, f, 'bulk float32');
    },
  );

  test.prop([fc.double({ noNaN: true })], { numRuns: 5000 })(
    `rounds random doubles once, straight to the nearest ${f.name} (no double rounding through float32)`,
    (x) => {
      expectRounded(narrow(x), x, f, 'double');
      expectRounded(arrayToHalfBits(Float64Array.of(x), dtype)[0], x, f, 'bulk double');
    },
  );

  test.prop([fc.double({ min: -70000, max: 70000, noNaN: true })], { numRuns: 5000 })(
    `rounds doubles in float16's range to the nearest ${f.name}`,
    (x) => expectRounded(narrow(x), x, f, 'double'),
  );
});

describe('bulk conversions', () => {
  it('refuse an output of the wrong length', () => {
    expect(() => arrayToHalfBits([1, 2], 'float16', new Uint16Array(3))).toThrow(/3 elements, the input 2/);
    expect(() => halfBitsToFloat32Array(new Uint16Array(2), 'bfloat16', new Float32Array(1))).toThrow(RangeError);
  });

  it('read a Float32Array that is a view into a larger buffer at its own offset', () => {
    const buf = new Float32Array([9, 1.5, -2, 9]);
    expect(Array.from(arrayToHalfBits(buf.subarray(1, 3), 'bfloat16'))).toEqual([0x3fc0, 0xc000]);
    const bits = new Uint16Array([0, 0x3c00, 0xc000, 0]);
    expect(Array.from(halfBitsToFloat32Array(bits.subarray(1, 3), 'float16'))).toEqual([1, -2]);
  });
});
