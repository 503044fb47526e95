import { fc, test } from '@fast-check/vitest';
import { type Tensor, scope, where } from '@siftjs/tensor';
import { describe, expect } from 'vitest';
import { erfScalar, sigmoidScalar } from '../reference/elementwise.js';
import { HALVES, U32, describeHalfKernels, expectWithinHalf, halfTensor, halfValuesArb, readAndDispose, rowsArb } from '../support/half-suites.js';

/**
 * Elementwise ops on float16 / bfloat16 tensors (Backend.unary, binary, where), against float64 from the inputs'
 * half values (tests/support/half-suites.ts): within half an ulp of the result plus the f32 evaluation's error. The
 * inputs are views at random (often odd) offsets, so loads straddle the two halves of words; the outputs have odd
 * lengths, so the last word is half used.
 */

const RUNS = { numRuns: 15 };

/**
 * The f32 evaluation's error, 2^-18·max(1, |x|): the kernels' f32 functions are within a few dozen f32 ulps
 * relative (2^-24 each) and within ~1.5e-7 absolute for erf (Abramowitz & Stegun 7.1.26), ·|x| in the gelus.
 */
const evalError = (x: number, y: number) => 2 ** -18 * Math.max(1, Math.abs(x), Math.abs(y));

const gelu = (x: number) => 0.5 * x * (1 + erfScalar(x / Math.SQRT2));
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** Unary ops: the tensor method, the float64 definition, and the input range where they are defined. */
const UNARY: [string, (t: Tensor) => Tensor, (x: number) => number, [number, number]][] = [
  ['neg', (t) => t.neg(), (x) => -x, [-4, 4]],
  ['abs', (t) => t.abs(), Math.abs, [-4, 4]],
  ['sign', (t) => t.sign(), Math.sign, [-4, 4]],
  ['exp', (t) => t.exp(), Math.exp, [-4, 4]],
  ['log', (t) => t.log(), Math.log, [0.01, 8]],
  ['sqrt', (t) => t.sqrt(), Math.sqrt, [0, 8]],
  ['rsqrt', (t) => t.rsqrt(), (x) => 1 / Math.sqrt(x), [0.01, 8]],
  ['sin', (t) => t.sin(), Math.sin, [-4, 4]],
  ['cos', (t) => t.cos(), Math.cos, [-4, 4]],
  ['tanh', (t) => t.tanh(), Math.tanh, [-4, 4]],
  ['sigmoid', (t) => t.sigmoid(), sigmoidScalar, [-6, 6]],
  ['relu', (t) => t.relu(), (x) => Math.max(0, x), [-4, 4]],
  ['erf', (t) => t.erf(), erfScalar, [-3, 3]],
  ['gelu', (t) => t.gelu(), gelu, [-4, 4]],
  ['gelu (tanh)', (t) => t.gelu('tanh'), geluTanh, [-4, 4]],
  ['silu', (t) => t.silu(), (x) => x * sigmoidScalar(x), [-4, 4]],
  ['square', (t) => t.square(), (x) => x * x, [-4, 4]],
  ['reciprocal', (t) => t.reciprocal(), (x) => 1 / x, [0.01, 8]],
  ['floor', (t) => t.floor(), Math.floor, [-4, 4]],
];

/** f32's one rounding of an exact operation on exact inputs. */
const once = (_a: number, _b: number, y: number) => U32 * Math.abs(y);

/**
 * Binary ops (b broadcast along the rows): the method, the float64 definition, a's range, and the f32 evaluation's
 * error: one rounding, or for pow, exp2(b·log2 a), the error of log2 a (a few ulps) magnified by |b·ln 2 · log2 a|.
 */
const BINARY: [string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => number, [number, number], (a: number, b: number, y: number) => number][] = [
  ['add', (a, b) => a.add(b), (a, b) => a + b, [-4, 4], once],
  ['sub', (a, b) => a.sub(b), (a, b) => a - b, [-4, 4], once],
  ['mul', (a, b) => a.mul(b), (a, b) => a * b, [-4, 4], once],
  ['div', (a, b) => a.div(b), (a, b) => a / b, [-4, 4], (_a, _b, y) => 3 * U32 * Math.abs(y)],
  ['maximum', (a, b) => a.maximum(b), Math.max, [-4, 4], () => 0],
  ['minimum', (a, b) => a.minimum(b), Math.min, [-4, 4], () => 0],
  ['pow', (a, b) => a.pow(b), (a, b) => a ** b, [0.25, 4], (a, b, y) => 8 * U32 * Math.abs(y) * (1 + Math.abs(b * Math.log2(a)))],
];

const COMPARE: [string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => boolean][] = [
  ['eq', (a, b) => a.eq(b), (a, b) => a === b],
  ['ne', (a, b) => a.ne(b), (a, b) => a !== b],
  ['lt', (a, b) => a.lt(b), (a, b) => a < b],
  ['le', (a, b) => a.le(b), (a, b) => a <= b],
  ['gt', (a, b) => a.gt(b), (a, b) => a > b],
  ['ge', (a, b) => a.ge(b), (a, b) => a >= b],
];

describeHalfKernels('half elementwise ops', () => {

  describe.each(HALVES)('%s', (dtype) => {
    describe.each(UNARY)('%s', (_name, op, f, [lo, hi]) => {
      test.prop([rowsArb.chain((s) => halfValuesArb(s.rows * s.cols, dtype, lo, hi).map((xs) => ({ ...s, xs })))], RUNS)(
        'is within half an ulp of the float64 value (plus the f32 evaluation error)',
        async ({ rows, cols, pad, xs }) => {
          const got = await readAndDispose(scope(() => op(halfTensor(xs, dtype, [rows, cols], pad))));
          const want = xs.map(f);
          expectWithinHalf(got, want, dtype, xs.map((x, i) => evalError(x, want[i])), `${_name} ${dtype}`);
        },
      );
    });

    describe.each(BINARY)('%s', (name, op, f, [lo, hi], evalErr) => {
      test.prop([rowsArb.chain((s) => fc.tuple(halfValuesArb(s.rows * s.cols, dtype, lo, hi), halfValuesArb(s.cols, dtype, 0.25, 3)).map(([a, b]) => ({ ...s, a, b })))], RUNS)(
        'with a broadcast operand, is within half an ulp of the float64 value',
        async ({ rows, cols, pad, a, b }) => {
          const got = await readAndDispose(scope(() => op(halfTensor(a, dtype, [rows, cols], pad), halfTensor(b, dtype, [1, cols], 1 - (pad % 2)))));
          const want = a.map((x, i) => f(x, b[i % cols]));
          expectWithinHalf(got, want, dtype, want.map((y, i) => evalErr(a[i], b[i % cols], y)), `${name} ${dtype}`);
        },
      );
    });

    test.prop([rowsArb.chain((s) => fc.tuple(halfValuesArb(s.rows * s.cols, dtype, -2, 2), halfValuesArb(s.rows * s.cols, dtype, -2, 2)).map(([a, b]) => ({ ...s, a, b })))], RUNS)(
      'comparisons are exact (ties included) and where picks patterns unchanged',
      async ({ rows, cols, pad, a, b }) => {
        // ties: every third element of b equal to a's
        const bb = b.map((v, i) => (i % 3 === 0 ? a[i] : v));
        for (const [name, op, f] of COMPARE) {
          const got = await readAndDispose(scope(() => op(halfTensor(a, dtype, [rows, cols], pad), halfTensor(bb, dtype, [rows, cols], pad + 1))));
          expect(got, name).toEqual(a.map((x, i) => (f(x, bb[i]) ? 1 : 0)));
        }
        const picked = await readAndDispose(
          scope(() => {
            const [ta, tb] = [halfTensor(a, dtype, [rows, cols], pad), halfTensor(bb, dtype, [rows, cols], 3 - pad)];
            return where(ta.gt(tb), ta, tb);
          }),
        );
        expect(picked).toEqual(a.map((x, i) => (x > bb[i] ? x : bb[i])));
      },
    );
  });
});
