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

describe.skipIf(!be)(`webgpu copy over strided views (${reason})`, () => {
  it('copy matches the CPU backend', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ shape, seed }) => {
        const n = size(shape);
        const a = operand(shape, 'float32', seed, false);
        const [g, c] = await both('float32', n, [a], (bk, [x]) => bk.copy(x));
        expect(Array.from(g)).toEqual(Array.from(c));
      }),
      { numRuns: 20 },
    );
  });
});
