/**
 * What the elementwise kernels' tests share (unary, binary, where, copy, cast, copyInto): random shapes with
 * strided, offset and broadcast layouts, operands over them, and a runner that applies one kernel on the GPU and
 * on the CPU backend to the same data.
 */
import type { Backend, DType, View } from '@siftjs/tensor';
import fc from 'fast-check';
import { layout, randomData } from './helpers.js';

export const RUNS = { numRuns: 12 };

/** A shape (rank 0–4, dims 1–7, sometimes a 0) and a seed for its layout and data. */
export const caseArb = fc.record({
  shape: fc.array(fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 7 }) }, { weight: 1, arbitrary: fc.constant(0) }), { minLength: 0, maxLength: 4 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  broadcast: fc.boolean(),
});

export interface Operand {
  data: Float32Array | Int32Array | Uint8Array;
  view: Omit<View, 'storage'>;
}

export function operand(shape: number[], dtype: DType, seed: number, broadcast: boolean, lo = -4, hi = 4): Operand {
  const l = layout(shape, seed, { broadcast });
  const f = randomData(l.length, seed, lo, hi);
  const data = dtype === 'float32' ? f : dtype === 'int32' ? Int32Array.from(f, Math.round) : Uint8Array.from(f, (v) => (v > 0 ? 1 : 0));
  return { data, view: { dtype, shape, strides: l.strides, offset: l.offset } };
}

/** `both(outType, n, operands, fn)` runs `fn` on both backends over the same data and views; returns [webgpu, cpu] results. */
export function onBoth(be: Backend, cpu: Backend) {
  return async (outType: DType, n: number, operands: Operand[], fn: (bk: Backend, views: View[]) => object): Promise<[ArrayLike<number>, ArrayLike<number>]> => {
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
    return [await run(be), await run(cpu)];
  };
}

/** Kernels whose output is bool whatever their input. */
export const BOOL_OUT = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'not', 'isnan']);
