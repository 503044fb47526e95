import { fc } from '@fast-check/vitest';
import { type HalfDType, type Tensor, scope, tensorFromBits } from '@siftjs/tensor';
import { beforeAll, describe, expect } from 'vitest';
import { BFLOAT16, BINARY16, type HalfFormat, decodeHalf, roundToHalf } from '../reference/half-format.js';
import { type BackendUnderTest, backendsUnderTest, caps } from './backends.js';

/**
 * What the half-precision op suites share: inputs held exactly as half values (rounded by the IEEE reference, not
 * by the library), views of them at odd offsets, and the error bound every check derives from the format's unit
 * roundoff.
 *
 * A kernel on half operands computes in f32 from the exact input values and rounds once to the format: the result
 * differs from the float64 value y of the same expression on the same inputs by at most
 *     ½ulp(y)   (rounding to nearest: half the spacing of the format at y, ≤ u·|y| with the unit roundoff
 *               u = 2^-11 for float16, 2^-8 for bfloat16; below the smallest normal, half the subnormal spacing)
 *   + (1 + u)·e   (e: the f32 evaluation's own error, which each check bounds from its op's condition)
 *   + floor   (what a device may lose below f32's normal range, bfloat16 only).
 * Half an ulp, not u·|y|: u·|y| is up to a whole ulp near the top of a binade, where a truncating store would pass.
 */

export const HALVES: HalfDType[] = ['float16', 'bfloat16'];
export const FORMATS: Record<HalfDType, HalfFormat> = { float16: BINARY16, bfloat16: BFLOAT16 };

/** The unit roundoff: half an ulp of 1, relative. */
export const unitRoundoff = (dtype: HalfDType): number => (dtype === 'float16' ? 2 ** -11 : 2 ** -8);

/** The unit roundoff of the f32 arithmetic the kernels compute in. */
export const U32 = 2 ** -24;

/**
 * The absolute error floor: none for float16 (its subnormals are normal f32 values); bfloat16's subnormals are
 * float32's, which a device may flush to zero once widened (SwiftShader does), so values below f32's smallest
 * normal, 2^-126, may come out as zero.
 */
export const errorFloor = (dtype: HalfDType): number => (dtype === 'float16' ? 0 : 2 ** -126);

/** Half the spacing of the format's values around y (the largest error of rounding y to nearest). */
export function halfUlp(y: number, dtype: HalfDType): number {
  const f = FORMATS[dtype];
  const emin = 1 - f.bias;
  const e = y === 0 ? emin : Math.max(emin, Math.floor(Math.log2(Math.abs(y))));
  return 2 ** (e - f.mantBits - 1);
}

/** The value of `dtype` nearest x (IEEE's rounding, by the reference). */
export function toHalf(x: number, dtype: HalfDType): number {
  const r = roundToHalf(x, FORMATS[dtype]);
  return r.nan ? NaN : decodeHalf(r.bits, FORMATS[dtype]);
}

function bitsOf(x: number, dtype: HalfDType): number {
  const r = roundToHalf(x, FORMATS[dtype]);
  if (r.nan) throw new Error('a NaN input');
  return r.bits;
}

/**
 * Values in [lo, hi) as the format holds them (random numbers of `fc.double`, rounded by the reference). bfloat16
 * reaches down to float32's subnormals: on a backend that flushes those (caps().subnormals false), magnitudes
 * below 2^-96 are zeroed here, as the float32 suites flush theirs, so that neither the inputs nor the kernels'
 * intermediates (means, products of two inputs) fall where the device loses them.
 */
export function halfValuesArb(n: number, dtype: HalfDType, lo = -4, hi = 4): fc.Arbitrary<number[]> {
  // mostly uniform in [lo, hi) (fast-check's doubles lean to 0, tiny and extreme values, whose results are often
  // exact and would let a wrong rounding pass), sometimes those edge values
  const uniform = fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((k) => lo + ((hi - lo) * k) / 2 ** 32);
  const value = fc.oneof({ weight: 9, arbitrary: uniform }, { weight: 1, arbitrary: fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true }) });
  return fc.array(value, { minLength: n, maxLength: n }).map((xs) =>
    xs.map((x) => {
      const h = toHalf(x, dtype);
      return !caps().subnormals && Math.abs(h) < 2 ** -96 ? h * 0 : h;
    }),
  );
}

/**
 * A tensor of `shape` holding `values` (each a value of `dtype`), from their bit patterns, as a view starting at
 * element `pad` of a larger storage: an odd `pad` puts its first element in the high half of a word.
 */
export function halfTensor(values: readonly number[], dtype: HalfDType, shape: readonly number[], pad = 0): Tensor {
  const bits = new Uint16Array(pad + values.length);
  values.forEach((v, i) => (bits[pad + i] = bitsOf(v, dtype)));
  return scope(() => tensorFromBits(bits, dtype).narrow(0, pad, values.length).reshape([...shape]));
}

/** Reads a tensor's values (a half tensor widened exactly) and disposes it. */
export async function readAndDispose(t: Tensor): Promise<number[]> {
  try {
    return Array.from(await t.toArray());
  } finally {
    t.dispose();
  }
}

/**
 * |got − want| ≤ ½ulp(want) + (1 + u)·slack[i] + floor for every element (NaN matching NaN, infinities exactly); the
 * message names the first miss with both values and the bound.
 */
export function expectWithinHalf(got: ArrayLike<number>, want: ArrayLike<number>, dtype: HalfDType, slack: ArrayLike<number> | number, what: string): void {
  expect(got.length, `${what}: element count`).toBe(want.length);
  const u = unitRoundoff(dtype);
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i], want[i]];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (!Number.isFinite(w) && g === w) continue;
    const e = typeof slack === 'number' ? slack : slack[i];
    const bound = halfUlp(w, dtype) + (1 + u) * e + errorFloor(dtype);
    if (!(Math.abs(g - w) <= bound)) expect.fail(`${what}: element ${i} is ${g}, expected ${w} ± ${bound} (${dtype})`);
  }
}

/** A shape [rows, cols] with odd sizes likely, and a pad (odd half the time) for its view. */
export const rowsArb = fc.record({ rows: fc.integer({ min: 1, max: 5 }), cols: fc.integer({ min: 1, max: 9 }), pad: fc.integer({ min: 0, max: 3 }) });

/**
 * A half op suite on every backend under test: run where the backend's kernels take half operands
 * (`halfKernels`), and reported as skipped, saying why, where they do not yet.
 */
export function describeHalfKernels(title: string, body: (backend: BackendUnderTest) => void): void {
  describe.each(backendsUnderTest())(`${title} on $name`, (backend) => {
    const why = `skipped: ${backend.name}'s kernels do not take half operands yet (halfKernels in tests/support/backends.ts)`;
    describe.skipIf(!backend.halfKernels)(backend.halfKernels ? 'half kernels' : why, () => {
      beforeAll(() => backend.start());
      body(backend);
    });
  });
}
