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

describe.skipIf(!be)(`webgpu where over strided views (${reason})`, () => {
  it('where matches the CPU backend', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 2 ** 30 }), async ({ shape, seed, broadcast }, seed2) => {
        const n = size(shape);
        const cond = operand(shape, 'bool', seed2, broadcast);
        const a = operand(shape, 'float32', seed, false);
        const bb = operand(shape, 'float32', seed2 + 1, broadcast);
        const [g, c] = await both('float32', n, [cond, a, bb], (bk, [k, x, y]) => bk.where(k, x, y));
        expect(Array.from(g)).toEqual(Array.from(c));
      }),
      { numRuns: 20 },
    );
  });
});
