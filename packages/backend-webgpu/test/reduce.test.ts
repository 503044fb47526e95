import type { ReduceOp } from '@siftjs/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, expectClose, layout, randomData, size, strides } from './helpers.js';
import { reduceCase, reduceRef } from './reduce-reference.js';

const { backend: be, reason } = await acquire();

describe.skipIf(!be)(`webgpu reductions (${reason})`, () => {
  const b = be as WebGpuBackend;


  it.each(['sum', 'max', 'min'] as ReduceOp[])('float32 %s over any axes of a strided view matches float64', async (op) => {
    await fc.assert(
      fc.asyncProperty(reduceCase, async ({ shape, seed, axes }) => {
        const l = layout(shape, seed, { broadcast: true });
        const data = randomData(l.length, seed);
        const s = b.upload('float32', data);
        const v = { storage: s, dtype: 'float32' as const, shape, strides: l.strides, offset: l.offset };
        const want = reduceRef(op, data, v, axes);
        const out = b.reduce(op, v, axes);
        const got = await b.read(out, 'float32', want.length);
        expectClose(got, want, 1e-5, 1e-5, `${op} ${JSON.stringify(shape)} axes ${axes}`);
        b.free(s);
        b.free(out);
      }),
      { numRuns: 25 },
    );
  });

  it('int32 and bool sums are exact and give int32', async () => {
    await fc.assert(
      fc.asyncProperty(reduceCase, async ({ shape, seed, axes }) => {
        const l = layout(shape, seed);
        const f = randomData(l.length, seed, -1000, 1000);
        for (const [dtype, data] of [
          ['int32', Int32Array.from(f, Math.round)],
          ['bool', Uint8Array.from(f, (x) => (x > 0 ? 1 : 0))],
        ] as const) {
          const s = b.upload(dtype, data);
          const v = { storage: s, dtype, shape, strides: l.strides, offset: l.offset };
          const want = reduceRef('sum', data, v, axes);
          const got = await b.read(b.reduce('sum', v, axes), 'int32', want.length);
          expect(Array.from(got)).toEqual(want);
          const mx = await b.read(b.reduce('max', v, axes), dtype, want.length);
          expect(Array.from(mx)).toEqual(reduceRef('max', data, v, axes));
          b.free(s);
        }
      }),
      { numRuns: 15 },
    );
  });

  it('long reductions (one workgroup per output) and many short ones', async () => {
    for (const [shape, axes] of [
      [[3, 20000], [1]],
      [[20000, 3], [0]],
      [[50000], [0]],
      [[30000, 2], [1]],
      [[7, 300, 5], [0, 2]],
    ] as [number[], number[]][]) {
      const data = randomData(size(shape), 5);
      const s = b.upload('float32', data);
      const v = { storage: s, dtype: 'float32' as const, shape, strides: strides(shape), offset: 0 };
      for (const op of ['sum', 'max'] as const) {
        const want = reduceRef(op, data, v, axes);
        const got = await b.read(b.reduce(op, v, axes), 'float32', want.length);
        const R = size(axes.map((a) => shape[a]));
        expectClose(got, want, 1e-5, op === 'sum' ? 1e-6 * R : 0, `${op} ${JSON.stringify(shape)} axes ${axes}`);
      }
      b.free(s);
    }
  });
});
