import { CpuBackend } from '@siftjs/backend-cpu';
import type { Backend, BinaryOp, DType, UnaryOp, View } from '@siftjs/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, expectClose, layout, randomData, size } from './helpers.js';

const { backend: be, reason } = await acquire();
const cpu = new CpuBackend({ simd: false, blas: false });
afterAll(() => cpu.dispose());

const RUNS = { numRuns: 12 };

/** A shape (rank 0–4, dims 1–7, sometimes a 0) and a seed for its layout and data. */
const caseArb = fc.record({
  shape: fc.array(fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 7 }) }, { weight: 1, arbitrary: fc.constant(0) }), { minLength: 0, maxLength: 4 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  broadcast: fc.boolean(),
});

interface Operand {
  data: Float32Array | Int32Array | Uint8Array;
  view: Omit<View, 'storage'>;
}

function operand(shape: number[], dtype: DType, seed: number, broadcast: boolean, lo = -4, hi = 4): Operand {
  const l = layout(shape, seed, { broadcast });
  const f = randomData(l.length, seed, lo, hi);
  const data = dtype === 'float32' ? f : dtype === 'int32' ? Int32Array.from(f, Math.round) : Uint8Array.from(f, (v) => (v > 0 ? 1 : 0));
  return { data, view: { dtype, shape, strides: l.strides, offset: l.offset } };
}

/** Runs `fn` on both backends over the same data and views; returns [webgpu, cpu] results. */
async function both(outType: DType, n: number, operands: Operand[], fn: (bk: Backend, views: View[]) => object): Promise<[ArrayLike<number>, ArrayLike<number>]> {
  const run = async (bk: Backend) => {
    const stores = operands.map((o) => bk.upload(o.view.dtype, o.data));
    const out = fn(
      bk,
      operands.map((o, i) => ({ ...o.view, storage: stores[i] })),
    );
    const got = await bk.read(out, outType, n);
    for (const s of [...stores, out]) bk.free(s);
    return got;
  };
  return [await run(be as WebGpuBackend), await run(cpu)];
}

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

const FLOAT_BINARY: { op: BinaryOp; lo?: number; hi?: number; rtol?: number; atol?: number }[] = [
  { op: 'add' },
  { op: 'sub' },
  { op: 'mul' },
  { op: 'div', lo: 0.25, hi: 4, rtol: 1e-6 },
  { op: 'pow', lo: 0.1, hi: 3, rtol: 2e-5 },
  { op: 'maximum' },
  { op: 'minimum' },
  { op: 'eq' },
  { op: 'ne' },
  { op: 'lt' },
  { op: 'le' },
  { op: 'gt' },
  { op: 'ge' },
  { op: 'and' },
  { op: 'or' },
];

const BOOL_OUT = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'not', 'isnan']);

describe.skipIf(!be)(`webgpu elementwise over strided views (${reason})`, () => {
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

  it.each(FLOAT_BINARY)('float32 $op matches the CPU backend, operands broadcast and transposed', async ({ op, lo, hi, rtol, atol }) => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 2 ** 30 }), async ({ shape, seed, broadcast }, seed2) => {
        const a = operand(shape, 'float32', seed, broadcast, lo, hi);
        const bb = operand(shape, 'float32', seed2, !broadcast, lo, hi);
        // Some equal elements, so eq/le/ge see both outcomes.
        if (bb.data.length > 2 && a.data.length > 2) bb.data[bb.view.offset] = a.data[a.view.offset];
        const out = BOOL_OUT.has(op) ? 'bool' : 'float32';
        const [g, c] = await both(out, size(shape), [a, bb], (bk, [x, y]) => bk.binary(op, x, y));
        expectClose(g, c, rtol ?? 0, atol ?? 0, `${op} ${JSON.stringify(shape)}`);
      }),
      RUNS,
    );
  });

  it.each(['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'lt', 'ge', 'and'] as BinaryOp[])('int32 %s is exact', async (op) => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 2 ** 30 }), async ({ shape, seed, broadcast }, seed2) => {
        const [lo, hi] = op === 'pow' ? [-4, 4] : [-60, 60];
        const a = operand(shape, 'int32', seed, broadcast, lo, hi);
        const bb = operand(shape, 'int32', seed2, false, op === 'pow' ? -1 : lo, op === 'pow' ? 6 : hi);
        const out = BOOL_OUT.has(op) ? 'bool' : 'int32';
        const [g, c] = await both(out, size(shape), [a, bb], (bk, [x, y]) => bk.binary(op, x, y));
        expect(Array.from(g)).toEqual(Array.from(c));
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

  it('where, copy, cast and copyInto match the CPU backend', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 2 ** 30 }), async ({ shape, seed, broadcast }, seed2) => {
        const n = size(shape);
        const cond = operand(shape, 'bool', seed2, broadcast);
        const a = operand(shape, 'float32', seed, false);
        const bb = operand(shape, 'float32', seed2 + 1, broadcast);
        let [g, c] = await both('float32', n, [cond, a, bb], (bk, [k, x, y]) => bk.where(k, x, y));
        expect(Array.from(g)).toEqual(Array.from(c));
        [g, c] = await both('float32', n, [a], (bk, [x]) => bk.copy(x));
        expect(Array.from(g)).toEqual(Array.from(c));
        [g, c] = await both('int32', n, [a], (bk, [x]) => bk.cast(x, 'int32'));
        expect(Array.from(g)).toEqual(Array.from(c));
        [g, c] = await both('bool', n, [a], (bk, [x]) => bk.cast(x, 'bool'));
        expect(Array.from(g)).toEqual(Array.from(c));
        const ints = operand(shape, 'int32', seed, broadcast, -100, 100);
        [g, c] = await both('float32', n, [ints], (bk, [x]) => bk.cast(x, 'float32'));
        expect(Array.from(g)).toEqual(Array.from(c));
        // copyInto a transposed destination: write a into dst (a permuted, offset view over a zeroed buffer).
        const dl = layout(shape, seed2 + 7);
        const dst: Operand = { data: new Float32Array(dl.length), view: { dtype: 'float32', shape, strides: dl.strides, offset: dl.offset } };
        [g, c] = await both('float32', dl.length, [dst, a], (bk, [d, x]) => {
          bk.copyInto(d, x);
          return bk.copy({ ...d, shape: [dl.length], strides: [1], offset: 0 });
        });
        expect(Array.from(g)).toEqual(Array.from(c));
      }),
      { numRuns: 20 },
    );
  });

  it('fill writes every dtype', async () => {
    expect(Array.from(await b.read(b.fill('float32', 5, -2.5), 'float32', 5))).toEqual([-2.5, -2.5, -2.5, -2.5, -2.5]);
    expect(Array.from(await b.read(b.fill('int32', 3, -7), 'int32', 3))).toEqual([-7, -7, -7]);
    expect(Array.from(await b.read(b.fill('bool', 3, 1), 'bool', 3))).toEqual([1, 1, 1]);
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

  it('propagates NaN through maximum / minimum and relu as the CPU backend', async () => {
    const a = Float32Array.from([Number.NaN, 1, -1, Number.NaN]);
    const c = Float32Array.from([0, Number.NaN, 2, 3]);
    const sa = b.upload('float32', a);
    const sc = b.upload('float32', c);
    const v = (s: object): View => ({ storage: s, dtype: 'float32', shape: [4], strides: [1], offset: 0 });
    const mx = await b.read(b.binary('maximum', v(sa), v(sc)), 'float32', 4);
    expect(Array.from(mx).map((x) => (Number.isNaN(x) ? 'nan' : x))).toEqual(['nan', 'nan', 2, 'nan']);
    const r = await b.read(b.unary('relu', v(sa)), 'float32', 4);
    expect(Number.isNaN(r[0])).toBe(true);
    expect(Array.from(await b.read(b.unary('isnan', v(sa)), 'bool', 4))).toEqual([1, 0, 0, 1]);
  });
});
