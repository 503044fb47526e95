import type { UnaryOp } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { simd, ts } from './tiers.js';

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
];

const xs = GOLDEN.map((g) => g[0]);
const cases: [UnaryOp, number[], number[]][] = [
  ['gelu', xs, GOLDEN.map((g) => g[1])],
  ['geluGrad', xs, GOLDEN.map((g) => g[2])],
  ['erf', xs.map((x) => x / 4), GOLDEN.map((g) => g[3])],
];

/** Float32 bit distance (same sign assumed: every golden value is nonzero and keeps its sign in float32, or is 0). */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const u = new Int32Array(f.buffer);
  return Math.abs(u[0] - u[1]);
}

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
  it.each(cases)('%s in float32 (the WebAssembly SIMD kernel) is within one ulp of the float32 rounding of the exact value', (op, input, exact) => {
    run(simd, 'float32', op, input).forEach((g, i) => expect(ulps(g, Math.fround(exact[i])), `${op}(${input[i]}) = ${g}, exact ${exact[i]}`).toBeLessThanOrEqual(1));
  });

  it.each(cases)('%s in float64 (the TypeScript kernel) is within 1e-11 relative of the exact value', (op, input, exact) => {
    run(ts, 'float64', op, input).forEach((g, i) => expect(Math.abs(g - exact[i]) / Math.abs(exact[i]), `${op}(${input[i]}) = ${g}, exact ${exact[i]}`).toBeLessThanOrEqual(1e-11));
  });
});
