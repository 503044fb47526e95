import { CpuBackend } from '@siftjs/backend-cpu';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { caseArb, operand, onBoth } from './elementwise-cases.js';
import { acquire, size } from './helpers.js';

const { backend: be, reason } = await acquire();
const cpu = new CpuBackend({ simd: false, blas: false });
afterAll(() => cpu.dispose());
const both = onBoth(be as WebGpuBackend, cpu);

describe.skipIf(!be)(`webgpu cast over strided views (${reason})`, () => {
  it('cast float32 → int32 / bool and int32 → float32 matches the CPU backend', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ shape, seed, broadcast }) => {
        const n = size(shape);
        const a = operand(shape, 'float32', seed, false);
        let [g, c] = await both('int32', n, [a], (bk, [x]) => bk.cast(x, 'int32'));
        expect(Array.from(g)).toEqual(Array.from(c));
        [g, c] = await both('bool', n, [a], (bk, [x]) => bk.cast(x, 'bool'));
        expect(Array.from(g)).toEqual(Array.from(c));
        const ints = operand(shape, 'int32', seed, broadcast, -100, 100);
        [g, c] = await both('float32', n, [ints], (bk, [x]) => bk.cast(x, 'float32'));
        expect(Array.from(g)).toEqual(Array.from(c));
      }),
      { numRuns: 20 },
    );
  });
});
