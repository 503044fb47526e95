import { type HalfDType, type Tensor, tensor } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { backendsUnderTest } from './backends.js';
import * as ref from '../reference/index.js';
import { BFLOAT16, BINARY16, decodeHalf, type HalfFormat, roundToHalf } from '../reference/half-format.js';
import { read } from './read.js';

/**
 * Checking ops in float16 / bfloat16 against the float64 reference. Inputs are rounded to the format by the IEEE
 * reference (tests/reference/half-format.ts), so the reference and the op see the same numbers; a result is then off
 * by the roundings the op does in the format — one, to nearest even, for an op that is one kernel — plus what its
 * float32 arithmetic adds. The bound is derived from the unit roundoff u (2^-11 for float16, 2^-8 for bfloat16):
 *   |got − exp| ≤ k·u·|exp| + k·(half the smallest subnormal) + 2^-20·scale
 * with k the op's roundings times its condition, and scale the size of the terms the float32 arithmetic rounded
 * (max |exp| by default; Σ|a||b| for products and sums, where cancellation makes |exp| small).
 */

export const HALVES: HalfDType[] = ['float16', 'bfloat16'];
export const FORMAT: Record<HalfDType, HalfFormat> = { float16: BINARY16, bfloat16: BFLOAT16 };
/** Unit roundoff: half the spacing of the format's numbers at 1. */
export const UNIT_ROUNDOFF: Record<HalfDType, number> = { float16: 2 ** -11, bfloat16: 2 ** -8 };
/** Half the smallest subnormal: the absolute error of a rounding near zero. */
const SUBNORMAL_HALF: Record<HalfDType, number> = { float16: 2 ** -25, bfloat16: 2 ** -134 };

/** x rounded to nearest even in the format, by the IEEE reference. */
export function roundHalf(x: number, dtype: HalfDType): number {
  const r = roundToHalf(x, FORMAT[dtype]);
  return r.nan ? NaN : decodeHalf(r.bits, FORMAT[dtype]);
}

/** A reference tensor with every value rounded to the format. */
export function toHalfRef(r: ref.Ref, dtype: HalfDType): ref.Ref {
  return ref.map(r, (v) => roundHalf(v, dtype));
}

/** A tensor of `dtype` holding the (already representable) values of `r`. */
export function halfTensor(r: ref.Ref, dtype: HalfDType, requiresGrad = false): Tensor {
  return tensor(r.data, { shape: r.shape, dtype, requiresGrad });
}

export interface HalfCheck {
  /** Roundings in the format times the op's condition (default 1: one kernel, one rounding). */
  k?: number;
  /** Per-element size of the terms the float32 arithmetic summed, from the rounded inputs (default: max |exp|). */
  scale?: (xs: ref.Ref[]) => ref.Ref;
  /** The dtype the result must have (default the inputs' half dtype). */
  outDtype?: string;
}

/** `ours` on half tensors of the rounded inputs against `reference` on the same values, within the bound above. */
export async function checkHalf(
  dtype: HalfDType,
  ours: (xs: Tensor[]) => Tensor,
  reference: (xs: ref.Ref[]) => ref.Ref,
  inputs: ref.Ref[],
  opts: HalfCheck = {},
): Promise<void> {
  const rin = inputs.map((r) => toHalfRef(r, dtype));
  const expected = reference(rin);
  let outDtype = '';
  let shape: number[] = [];
  const got = await read(() => {
    const out = ours(rin.map((r) => halfTensor(r, dtype)));
    outDtype = out.dtype;
    shape = [...out.shape];
    return out;
  });
  expect(outDtype, 'result dtype').toBe(opts.outDtype ?? dtype);
  expect(shape, 'result shape').toEqual(expected.shape);
  expectWithinHalf(got, expected.data, dtype, opts.k ?? 1, opts.scale ? opts.scale(rin).data : null);
}

/** The bound of this file's header, element by element; NaN matches NaN and infinities match exactly. */
export function expectWithinHalf(got: ArrayLike<number>, exp: ArrayLike<number>, dtype: HalfDType, k: number, scale: ArrayLike<number> | null, what = ''): void {
  expect(got.length, `${what} element count`).toBe(exp.length);
  let maxAbs = 0;
  for (let i = 0; i < exp.length; i++) if (Number.isFinite(exp[i])) maxAbs = Math.max(maxAbs, Math.abs(exp[i]));
  const u = UNIT_ROUNDOFF[dtype];
  for (let i = 0; i < exp.length; i++) {
    const [g, e] = [got[i], exp[i]];
    if (Number.isNaN(e) && Number.isNaN(g)) continue;
    if (!Number.isFinite(e) && g === e) continue;
    // past the largest finite value by half an ulp or more, the format's nearest value is ±∞
    if (!Number.isFinite(roundHalf(e, dtype)) && g === roundHalf(e, dtype)) continue;
    const bound = k * u * Math.abs(e) + k * SUBNORMAL_HALF[dtype] + 2 ** -20 * (scale ? Math.abs(scale[i]) : maxAbs);
    if (!(Math.abs(g - e) <= bound)) expect.fail(`${what} ${dtype}: element ${i} is ${g}, expected ${e} (bound ${bound}: k = ${k}, u = ${u})`);
  }
}

/**
 * The suites written for the CPU's half kernels (one rounding of a float64-accurate value, the CPU's transient
 * buffers) run on the CPU projects. WebGPU's and CUDA's half kernels are held to their own bounds by
 * tests/parity/half-*.test.ts (support/half-suites.ts); on WebGPU these stricter checks fail today (issue 19's note).
 */
export const cpuHalf = (b: { name: string; half: boolean }): boolean => b.half && b.name.startsWith('cpu');

/** Says, as a skipped test, why a half suite of this file does not run on the other half backends (a file needs a suite). */
export function skipOnOtherHalfBackends(): void {
  const others = backendsUnderTest().filter((b) => b.half && !cpuHalf(b));
  if (others.length) describe.each(others)('on $name', () => it.skip('the CPU kernels\' bounds: this backend\'s half kernels have their own suites (tests/parity/half-*.test.ts)', () => {}));
}
