import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, layout, randomData } from './helpers.js';
import { reduceCase, reduceRef } from './reduce-reference.js';

const { backend: be, reason } = await acquire();

describe.skipIf(!be)(`webgpu argmax / argmin (${reason})`, () => {
  const b = be as WebGpuBackend;

  it('argmax / argmin along an axis match the first extreme index', async () => {
    await fc.assert(
      fc.asyncProperty(reduceCase, fc.nat(), async ({ shape, seed }, ax) => {
        const axis = ax % shape.length;
        const l = layout(shape, seed);
        const data = randomData(l.length, seed);
        const s = b.upload('float32', data);
        const v = { storage: s, dtype: 'float32' as const, shape, strides: l.strides, offset: l.offset };
        for (const op of ['argmax', 'argmin'] as const) {
          const want = reduceRef(op, data, v, [axis]);
          expect(Array.from(await b.read(b.argReduce(op, v, axis), 'int32', want.length))).toEqual(want);
        }
        b.free(s);
      }),
      { numRuns: 20 },
    );
  });
});
