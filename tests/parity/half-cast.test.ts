import { fc, test } from '@fast-check/vitest';
import { type DType, type HalfDType, type Tensor, scope, tensor, tensorFromBits } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { BFLOAT16, BINARY16, type HalfFormat, decodeHalf, roundToHalf } from '../reference/half-format.js';
import { describeHalfKernels } from '../support/half-suites.js';

/**
 * Casts into and out of float16 / bfloat16 on a backend's kernels (Backend.cast), exact against IEEE 754's
 * definitions (tests/reference/half-format.ts: decoding by the formula, rounding to nearest even by an exact
 * search): every half pattern widened and converted to the other formats; float32 and int32 narrowed at the edges
 * of both formats (ties both ways, the largest finite value and the overflow threshold, subnormals, ±0, ±∞, NaN)
 * and at random.
 */

const FORMATS: Record<HalfDType, HalfFormat> = { float16: BINARY16, bfloat16: BFLOAT16 };
const HALVES: HalfDType[] = ['float16', 'bfloat16'];
const OTHER: Record<HalfDType, HalfDType> = { float16: 'bfloat16', bfloat16: 'float16' };
const RUNS = { numRuns: 20 };

const ALL_PATTERNS = Uint16Array.from({ length: 65536 }, (_, i) => i);

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
/** The float32 with these bits. */
function fromBits32(u: number): number {
  f32Bits[0] = u;
  return f32[0];
}
function bits32(x: number): number {
  f32[0] = x;
  return f32Bits[0];
}

/** A pattern's description for failure messages. */
const hex = (b: number, digits = 4) => `0x${(b >>> 0).toString(16).padStart(digits, '0')}`;

/**
 * Whether `got` is the pattern IEEE's rounding gives `x` in `f`: the same bits, or for NaN a NaN of the same sign
 * (`nanSign`: a NaN's sign where `x` is a JavaScript NaN, which has lost it).
 */
function isRoundingOf(got: number, x: number, f: HalfFormat, nanSign?: number): boolean {
  const want = roundToHalf(x, f);
  if (!want.nan) return got === want.bits;
  const infBits = ((1 << f.expBits) - 1) << f.mantBits;
  return (got & 0x7fff) > infBits && got >> 15 === (nanSign ?? want.sign);
}

/** Runs `fn` in a scope and reads the tensor it returns as its 16-bit patterns. */
async function bitsOf(fn: () => Tensor): Promise<number[]> {
  const t = scope(fn);
  try {
    return Array.from(await t.toBits());
  } finally {
    t.dispose();
  }
}

/** Runs `fn` in a scope and reads the tensor it returns as values. */
async function valuesOf(fn: () => Tensor): Promise<number[]> {
  const t = scope(fn);
  try {
    return Array.from(await t.toArray());
  } finally {
    t.dispose();
  }
}

/** float32 patterns around every edge of format `f`: ties between neighbours (each way), their f32 neighbours, the overflow threshold, subnormals, zeros, infinities, NaNs. */
function edgeFloat32Bits(f: HalfFormat): number[] {
  const out = [0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fa00000, 0x7fffffff];
  out.push(0x00000001, 0x80000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff); // float32 subnormals, smallest normal, largest
  const largest = (((1 << f.expBits) - 1) << f.mantBits) - 1;
  const smallestNormal = 1 << f.mantBits;
  const pivots = [0, 1, 2, 3, smallestNormal - 2, smallestNormal - 1, smallestNormal, smallestNormal + 1, largest - 2, largest - 1];
  // 1.0 and its neighbours, and a few in the middle of the range
  const one = f.bias << f.mantBits;
  pivots.push(one - 1, one, one + 1, one + 2, (one >> 1) + 3, one + (5 << f.mantBits) + 7);
  for (const h of pivots) {
    const lo = decodeHalf(h, f);
    const hi = decodeHalf(h + 1, f);
    const mid = bits32((lo + hi) / 2); // exact: one bit more than the format's mantissa fits in float32
    for (const u of [bits32(lo), mid - 1, mid, mid + 1, bits32(hi)]) out.push(u, (u | 0x80000000) >>> 0);
  }
  // the largest finite value, the overflow threshold (largest + half its ulp: a tie that goes to infinity) and around it
  const max = decodeHalf(largest, f);
  const threshold = bits32(max + (max - decodeHalf(largest - 1, f)) / 2);
  for (const u of [bits32(max), threshold - 1, threshold, threshold + 1]) out.push(u, (u | 0x80000000) >>> 0);
  return out;
}

/** A float32 pattern at or next to the midpoint of two neighbouring finite patterns of `f` (where rounding decides). */
const nearTieArb = (f: HalfFormat) =>
  fc.record({ h: fc.integer({ min: 0, max: (((1 << f.expBits) - 1) << f.mantBits) - 2 }), nudge: fc.integer({ min: -2, max: 2 }), neg: fc.boolean() }).map(({ h, nudge, neg }) => {
    const mid = bits32((decodeHalf(h, f) + decodeHalf(h + 1, f)) / 2) + nudge;
    return (neg ? mid | 0x80000000 : mid) >>> 0;
  });

/** int32s where rounding decides: beyond 2^24 a trip through float32 would round twice; the formats' ranges; extremes. */
const EDGE_INTS = [
  0, 1, -1, 2, 3, 255, 256, 257, 2047, 2048, 2049, 2050, 2051, 65504, 65505, 65519, 65520, 65521, 65536, -65520, -65519,
  2 ** 24, 2 ** 24 + 1, 2 ** 24 + 3, 2 ** 25 + 2 ** 17, 2 ** 25 + 2 ** 17 + 1, 2 ** 25 + 2 ** 17 - 1, 2 ** 25 + 3 * 2 ** 17,
  2 ** 25 + 3 * 2 ** 17 + 1, -(2 ** 25 + 2 ** 17 + 1), 2 ** 30 + 2 ** 22, 2 ** 30 + 2 ** 22 + 1, 2 ** 31 - 1, -(2 ** 31), -(2 ** 31) + 1,
  0x7fffffc0, 0x7fbfffff, 0x7fc00000,
];

describeHalfKernels('half casts', (backend) => {

  describe.each(HALVES)('%s', (dtype) => {
    const fmt = FORMATS[dtype];

    it('widening to float32 is exact for all 65536 patterns (subnormals, ±0, ±∞, NaN)', async () => {
      const got = await valuesOf(() => tensorFromBits(ALL_PATTERNS, dtype).cast('float32'));
      for (let h = 0; h < 65536; h++) {
        const want = decodeHalf(h, fmt);
        if (Number.isNaN(want) ? !Number.isNaN(got[h]) : !Object.is(got[h], want)) throw new Error(`${hex(h)} widened to ${got[h]}, expected ${want}`);
      }
    });

    it(`every pattern cast to ${OTHER[dtype]} is the nearest value there (ties to even)`, async () => {
      const to = OTHER[dtype];
      const got = await bitsOf(() => tensorFromBits(ALL_PATTERNS, dtype).cast(to));
      for (let h = 0; h < 65536; h++) {
        if (!isRoundingOf(got[h], decodeHalf(h, fmt), FORMATS[to], h >> 15)) throw new Error(`${dtype} ${hex(h)} → ${to} ${hex(got[h])}, expected ${JSON.stringify(roundToHalf(decodeHalf(h, fmt), FORMATS[to]))}`);
      }
    });

    it('every pattern cast to int32 truncates toward zero (NaN → 0), and to bool is non-zero (NaN → true)', async () => {
      const ints = await valuesOf(() => tensorFromBits(ALL_PATTERNS, dtype).cast('int32'));
      const bools = await valuesOf(() => tensorFromBits(ALL_PATTERNS, dtype).cast('bool'));
      for (let h = 0; h < 65536; h++) {
        const v = decodeHalf(h, fmt);
        expect(bools[h], hex(h)).toBe(v !== 0 ? 1 : 0);
        // float → int beyond int32's range is undefined in C and PyTorch (WebGPU clamps, the CPU wraps): in range only
        if (Number.isNaN(v)) expect(ints[h], hex(h)).toBe(0);
        else if (Math.abs(v) < 2 ** 31) expect(ints[h], hex(h)).toBe(Math.trunc(v) | 0);
      }
    });

    it('float32 at the edges of the format rounds to nearest even: ties both ways, overflow, subnormals, ±0, ±∞, NaN', async () => {
      const inputs = edgeFloat32Bits(fmt);
      const got = await bitsOf(() => tensor(new Float32Array(Uint32Array.from(inputs).buffer)).cast(dtype));
      inputs.forEach((u, i) => {
        expect(isRoundingOf(got[i], fromBits32(u), fmt), `float32 ${hex(u, 8)} → ${hex(got[i])}, expected ${JSON.stringify(roundToHalf(fromBits32(u), fmt))}`).toBe(true);
      });
    });

    test.prop([fc.array(fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), nearTieArb(fmt)), { minLength: 1, maxLength: 300 })], RUNS)(
      'float32 patterns at random, and next to random ties, round to the nearest value (ties to even)',
      async (inputs) => {
        const got = await bitsOf(() => tensor(new Float32Array(Uint32Array.from(inputs).buffer)).cast(dtype));
        inputs.forEach((u, i) => {
          expect(isRoundingOf(got[i], fromBits32(u), fmt), `float32 ${hex(u, 8)} → ${hex(got[i])}, expected ${JSON.stringify(roundToHalf(fromBits32(u), fmt))}`).toBe(true);
        });
      },
    );

    test.prop([fc.array(fc.oneof(fc.constantFrom(...EDGE_INTS), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), { minLength: 1, maxLength: 200 })], RUNS)(
      'int32 rounds once to the nearest value (no double rounding through float32), bool gives 0 and 1',
      async (ints) => {
        const xs = [...EDGE_INTS, ...ints];
        const got = await bitsOf(() => tensor(Int32Array.from(xs)).cast(dtype));
        xs.forEach((v, i) => expect(isRoundingOf(got[i], v, fmt), `int32 ${v} → ${hex(got[i])}, expected ${JSON.stringify(roundToHalf(v, fmt))}`).toBe(true));
        const b = await valuesOf(() => tensor([true, false, true], { dtype: 'bool' }).cast(dtype));
        expect(b).toEqual([1, 0, 1]);
      },
    );

    it.skipIf(!backend.float64)('float64 rounds once (not through float32)', async () => {
      // Each sits just past a tie of the format by less than a float32 ulp: through float32 it would land on the tie.
      const xs: number[] = [];
      for (const h of [1, 0x3c00, 0x3c01, 0x3f80, 0x4000, 0x1234]) {
        const mid = (decodeHalf(h, fmt) + decodeHalf(h + 1, fmt)) / 2;
        xs.push(mid * (1 + 2 ** -40), mid * (1 - 2 ** -40), -mid * (1 + 2 ** -40));
      }
      const got = await bitsOf(() => tensor(Float64Array.from(xs)).cast(dtype));
      xs.forEach((x, i) => expect(isRoundingOf(got[i], x, fmt), `float64 ${x}`).toBe(true));
    });

    it('copies of views move the patterns unchanged (signalling NaN payloads, -0, subnormals), odd offsets and transposes included', async () => {
      const t = tensorFromBits(ALL_PATTERNS, dtype, { shape: [256, 256] });
      try {
        const shifted = await bitsOf(() => t.reshape([65536]).narrow(0, 1, 65533).contiguous());
        expect(shifted).toEqual(Array.from(ALL_PATTERNS.subarray(1, 65534)));
        const transposed = await bitsOf(() => t.transpose(0, 1).contiguous());
        for (let i = 0; i < 65536; i++) if (transposed[i] !== ((i % 256) * 256 + Math.floor(i / 256))) throw new Error(`transposed element ${i}: ${hex(transposed[i])}`);
      } finally {
        t.dispose();
      }
    });
  });

  it.each(['float32', 'int32'] as DType[])('a %s tensor cast to a half format and back keeps what the format holds', async (from) => {
    // values with at most 8 significant bits, inside both formats' ranges: held exactly by both
    const xs = from === 'float32' ? [0, -0, 1, -2.5, 0.15625, 240, -61440] : [0, 1, -2, 240, -256];
    for (const dtype of HALVES) {
      const got = await valuesOf(() => tensor(xs, { dtype: from }).cast(dtype).cast(from));
      expect(got).toEqual(xs);
    }
  });
});
