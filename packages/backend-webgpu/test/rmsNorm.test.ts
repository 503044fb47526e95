import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, acquireNarrow } from './helpers.js';
import { EDGE_SHAPES, caseArb, check } from './norm-reference.js';

const { backend: be, reason } = await acquire();
const narrow = be ? await acquireNarrow() : null;
afterAll(() => narrow?.destroy());

/** The random cases of RMS norm (no mean, no bias). */
const rmsNormCases = caseArb.filter((c) => !c.centred);

describe.skipIf(!be)(`webgpu rmsNorm and rmsNormBackward (${reason})`, () => {
  const b = be as WebGpuBackend;

  it('forward and backward match float64 (y, rstd, dx, dweight; no mean, no dbias) on random rows', async () => {
    await fc.assert(
      fc.asyncProperty(rmsNormCases, (c) => check(b, c)),
      { numRuns: 15 },
    );
  });

  it('one row, one column, rows longer than a workgroup, and 2000 short rows', async () => {
    for (const [rows, cols] of EDGE_SHAPES) {
      await check(b, { rows, cols, centred: false, weight: true, bias: false, seed: rows + cols, shift: 0 });
    }
  });

  it('a device with four storage buffers per stage packs the small vectors and gets the same values', async () => {
    if (!narrow) throw new Error('no second device');
    await fc.assert(
      fc.asyncProperty(rmsNormCases, (c) => check(narrow, c)),
      { numRuns: 6 },
    );
  });

  it('mismatched operands are rejected with the op and shapes', () => {
    const s = b.alloc('float32', 6);
    const x = { storage: s, dtype: 'float32' as const, shape: [2, 3], strides: [3, 1], offset: 0 };
    expect(() => b.rmsNorm(x, { ...x, shape: [2] }, 3, 1e-5)).toThrow(/rmsNorm float32 \[2, 3\] rows of 3, weight \[2\]: operand \[2\] does not fit rows of 3/);
  });
});
