import { CpuBackend } from '@siftjs/backend-cpu';
import type { BinaryOp, View } from '@siftjs/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { BOOL_OUT, RUNS, caseArb, operand, onBoth } from './elementwise-cases.js';
import { acquire, expectClose, size } from './helpers.js';

const { backend: be, reason } = await acquire();
const cpu = new CpuBackend({ simd: false, blas: false });
afterAll(() => cpu.dispose());
const both = onBoth(be as WebGpuBackend, cpu);

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
describe.skipIf(!be)(`webgpu binary over strided views (${reason})`, () => {
  const b = be as WebGpuBackend;

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

  it('propagates NaN through maximum as the CPU backend', async () => {
    const a = Float32Array.from([Number.NaN, 1, -1, Number.NaN]);
    const c = Float32Array.from([0, Number.NaN, 2, 3]);
    const sa = b.upload('float32', a);
    const sc = b.upload('float32', c);
    const v = (s: object): View => ({ storage: s, dtype: 'float32', shape: [4], strides: [1], offset: 0 });
    const mx = await b.read(b.binary('maximum', v(sa), v(sc)), 'float32', 4);
    expect(Array.from(mx).map((x) => (Number.isNaN(x) ? 'nan' : x))).toEqual(['nan', 'nan', 2, 'nan']);
  });
});
