import { CpuBackend } from '@siftjs/backend-cpu';
import type { UnaryOp, View } from '@siftjs/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { BOOL_OUT, RUNS, caseArb, operand, onBoth } from './elementwise-cases.js';
import { acquire, expectClose, size } from './helpers.js';

const { backend: be, reason } = await acquire();
const cpu = new CpuBackend({ simd: false, blas: false });
afterAll(() => cpu.dispose());
const both = onBoth(be as WebGpuBackend, cpu);

const FLOAT_UNARY: { op: UnaryOp; lo?: number; hi?: number; rtol?: number; atol?: number }[] = [
  { op: 'neg' },
  { op: 'abs' },
  { op: 'sign' },
  { op: 'exp', rtol: 2e-6 },
  { op: 'log', lo: 0.05, hi: 5, atol: 1e-6 },
  { op: 'sqrt', lo: 0, hi: 5, rtol: 1e-6 },
  { op: 'rsqrt', lo: 0.05, hi: 5, rtol: 1e-6 },
  { op: 'sin', atol: 2e-6 },
  { op: 'cos', atol: 2e-6 },
  { op: 'tanh', atol: 2e-6 },
  { op: 'sigmoid', atol: 1e-6 },
  { op: 'relu' },
  { op: 'erf', atol: 1e-6 },
  { op: 'gelu', atol: 2e-6 },
  { op: 'geluTanh', atol: 2e-6 },
  { op: 'silu', atol: 2e-6 },
  { op: 'square' },
  { op: 'reciprocal', lo: 0.1, hi: 4, rtol: 1e-6 },
  { op: 'floor' },
  { op: 'not' },
  { op: 'isnan' },
];
describe.skipIf(!be)(`webgpu unary over strided views (${reason})`, () => {
  const b = be as WebGpuBackend;

  it.each(FLOAT_UNARY)('float32 $op matches the CPU backend', async ({ op, lo, hi, rtol, atol }) => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ shape, seed, broadcast }) => {
        const x = operand(shape, 'float32', seed, broadcast, lo, hi);
        const out = BOOL_OUT.has(op) ? 'bool' : 'float32';
        const [g, c] = await both(out, size(shape), [x], (bk, [v]) => bk.unary(op, v));
        expectClose(g, c, rtol ?? 0, atol ?? 0, `${op} ${JSON.stringify(shape)} strides ${JSON.stringify(x.view.strides)}`);
      }),
      RUNS,
    );
  });

  it.each(['neg', 'abs', 'sign', 'square', 'relu', 'not'] as UnaryOp[])('int32 %s is exact', async (op) => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ shape, seed, broadcast }) => {
        const x = operand(shape, 'int32', seed, broadcast, -60, 60);
        const [g, c] = await both(op === 'not' ? 'bool' : 'int32', size(shape), [x], (bk, [v]) => bk.unary(op, v));
        expect(Array.from(g)).toEqual(Array.from(c));
      }),
      RUNS,
    );
  });

  it('handles more elements than one grid row of workgroups', async () => {
    const n = 65535 * b.limits.maxComputeInvocationsPerWorkgroup + 1000 > 2 ** 24 ? 3_000_000 : 65535 * 256 + 1000;
    const x = b.fill('float32', n, 1.5);
    const y = b.unary('square', { storage: x, dtype: 'float32', shape: [n], strides: [1], offset: 0 });
    const got = await b.read(y, 'float32', n);
    expect(got[0]).toBe(2.25);
    expect(got[n - 1]).toBe(2.25);
    expect(got.every((v) => v === 2.25)).toBe(true);
    b.free(x);
    b.free(y);
  });

  it('relu propagates NaN and isnan finds it, as the CPU backend', async () => {
    const sa = b.upload('float32', Float32Array.from([Number.NaN, 1, -1, Number.NaN]));
    const v = (s: object): View => ({ storage: s, dtype: 'float32', shape: [4], strides: [1], offset: 0 });
    const r = await b.read(b.unary('relu', v(sa)), 'float32', 4);
    expect(Number.isNaN(r[0])).toBe(true);
    expect(Array.from(await b.read(b.unary('isnan', v(sa)), 'bool', 4))).toEqual([1, 0, 0, 1]);
  });
});
