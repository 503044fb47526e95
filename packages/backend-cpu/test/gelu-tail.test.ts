import type { UnaryOp } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { simd, ts } from './tiers.js';
import { unaryReference } from './unary-bounds.js';

/**
 * The exact gelu x·Φ(x), its derivative Φ(x) + x·φ(x) and erf against values from mpmath at 50 digits (printed by a
 * one-off script: Φ(x) = erfc(−x/√2)/2), through the far negative tail where 1 + erf(x/√2) cancels: there the
 * kernels must take erfc directly (at x = −8 the cancelling form kept one digit; at −10 none).
 * Columns: x, gelu(x), gelu'(x), erf(x/4).
 */
const GOLDEN: [number, number, number, number][] = [
  [-16, -1.022200704086094e-56, -1.6354721620665075e-55, -0.9999999845827421],
  [-14, -1.091095154686992e-43, -1.527455646325367e-42, -0.99999925690162766],
  [-12, -2.1317785344932148e-32, -2.5578956616748956e-31, -0.99997790950300141],
  [-10, -7.6198530241605261e-23, -7.6184000964648141e-22, -0.99959304798255504],
  [-8, -4.9767684594174273e-15, -3.979607261086796e-14, -0.99532226501895273],
  [-6, -5.9195258702261888e-9, -3.5468709453902015e-8, -0.96610514647531073],
  [-4, -0.00012668496733247969, -0.00050364966122642149, -0.84270079294971487],
  [-2.5, -0.015524163314440338, -0.037611085908145208, -0.62324088218841797],
  [-1, -0.15865525393145705, -0.083315470587686298, -0.27632639016823693],
  [-0.25, -0.10032341857926907, 0.30462664511636397, -0.070431977722387078],
  [0.25, 0.14967658142073093, 0.69537335488363603, 0.070431977722387078],
  [1, 0.84134474606854295, 1.0833154705876863, 0.27632639016823693],
  [2.5, 2.4844758366855597, 1.0376110859081452, 0.62324088218841797],
  [4, 3.9998733150326675, 1.0005036496612264, 0.84270079294971487],
  [6, 5.9999999940804741, 1.0000000354687095, 0.96610514647531073],
  // at float32 points whose squares float32 cannot hold (x² rounded would move e^(−x²/2) by x²·2⁻²⁴)
  [-13.300000190734863, -1.5392604612132303e-39, -2.0470891405692337e-38, -0.99999742702635151],
  [-11.699999809265137, -7.4560462885170049e-31, -8.722675235884941e-30, -0.99996474712224998],
  [-9.100000381469727, -4.1100839934704952e-19, -3.7391463365684463e-18, -0.99870613020610377],
  [-5.300000190734863, -3.0687679457204253e-7, -1.6229121663107417e-6, -0.93904655874258164],
  [-2.9000000953674316, -0.0054108571027862929, -0.015396527078152044, -0.69478063968987462],
  [0.699999988079071, 0.53062543180170161, 0.97661409551290081, 0.19546893455547024],
  [3.299999952316284, 3.2984046523984121, 1.0052010540867046, 0.75667903005503195],
];

const xs = GOLDEN.map((g) => g[0]);
const cases: [UnaryOp, number[], number[]][] = [
  ['gelu', xs, GOLDEN.map((g) => g[1])],
  ['geluGrad', xs, GOLDEN.map((g) => g[2])],
  ['erf', xs.map((x) => x / 4), GOLDEN.map((g) => g[3])],
];

/** `op` over `input` on one of the two tiers, read back. */
function run(be: typeof simd, dtype: 'float32' | 'float64', op: UnaryOp, input: number[]): number[] {
  const x = be.upload(dtype, dtype === 'float32' ? Float32Array.from(input) : Float64Array.from(input));
  const out = be.unary(op, { storage: x, dtype, shape: [input.length], strides: [1], offset: 0 });
  const got = Array.from(be.readSync(out, dtype, input.length));
  be.free(x);
  be.free(out);
  return got;
}

describe('erf, gelu and its derivative in the far tails, against mpmath', () => {
  it.each(cases)('%s in float32 (the WebAssembly SIMD kernel) is within its derived error bound (unary-bounds.ts) of the exact value', (op, input, exact) => {
    run(simd, 'float32', op, input).forEach((g, i) => {
      const { bound } = unaryReference(op, input[i]);
      expect(Math.abs(g - exact[i]), `${op}(${input[i]}) = ${g}, exact ${exact[i]}`).toBeLessThanOrEqual(bound);
      // and not by way of a zero: the tails down to −14 are float32 numbers, at most 10U + a few 2⁻¹⁴⁹ away
      if (Math.fround(exact[i]) !== 0) expect(g, `${op}(${input[i]})`).not.toBe(0);
    });
  });

  it.each(cases)('%s in float64 (the TypeScript kernel) is within 1e-11 relative of the exact value', (op, input, exact) => {
    run(ts, 'float64', op, input).forEach((g, i) => expect(Math.abs(g - exact[i]) / Math.abs(exact[i]), `${op}(${input[i]}) = ${g}, exact ${exact[i]}`).toBeLessThanOrEqual(1e-11));
  });
});
