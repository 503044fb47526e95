import { CpuBackend } from '@siftjs/backend-cpu';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { type Operand, caseArb, operand, onBoth } from './elementwise-cases.js';
import { acquire, layout } from './helpers.js';

const { backend: be, reason } = await acquire();
const cpu = new CpuBackend({ simd: false, blas: false });
afterAll(() => cpu.dispose());
const both = onBoth(be as WebGpuBackend, cpu);

describe.skipIf(!be)(`webgpu copyInto over strided views (${reason})`, () => {
  it('copyInto a transposed, offset destination matches the CPU backend', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 2 ** 30 }), async ({ shape, seed }, seed2) => {
        const a = operand(shape, 'float32', seed, false);
        // copyInto a transposed destination: write a into dst (a permuted, offset view over a zeroed buffer).
        const dl = layout(shape, seed2 + 7);
        const dst: Operand = { data: new Float32Array(dl.length), view: { dtype: 'float32', shape, strides: dl.strides, offset: dl.offset } };
        const [g, c] = await both('float32', dl.length, [dst, a], (bk, [d, x]) => {
          bk.copyInto(d, x);
          return bk.copy({ ...d, shape: [dl.length], strides: [1], offset: 0 });
        });
        expect(Array.from(g)).toEqual(Array.from(c));
      }),
      { numRuns: 20 },
    );
  });
});
