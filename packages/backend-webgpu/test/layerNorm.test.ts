import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, acquireNarrow } from './helpers.js';
import { EDGE_SHAPES, caseArb, check } from './norm-reference.js';

const { backend: be, reason } = await acquire();
const narrow = be ? await acquireNarrow() : null;
afterAll(() => narrow?.destroy());

/** The random cases of layer norm (the shared generator draws both norms; its bias is drawn only for layer norm). */
const layerNormCases = caseArb.filter((c) => c.centred);

describe.skipIf(!be)(`webgpu layerNorm and layerNormBackward (${reason})`, () => {
  const b = be as WebGpuBackend;

  it('forward and backward match float64 (y, mean, rstd, dx, dweight, dbias) on random rows', async () => {
    await fc.assert(
      fc.asyncProperty(layerNormCases, (c) => check(b, c)),
      { numRuns: 15 },
    );
  });

  it('one row, one column, rows longer than a workgroup, and 2000 short rows', async () => {
    for (const [rows, cols] of EDGE_SHAPES) {
      await check(b, { rows, cols, centred: true, weight: true, bias: true, seed: rows + cols, shift: 0 });
    }
  });

  it('a device with four storage buffers per stage packs the small vectors and gets the same values', async () => {
    if (!narrow) throw new Error('no second device');
    await fc.assert(
      fc.asyncProperty(layerNormCases, (c) => check(narrow, c)),
      { numRuns: 6 },
    );
    await check(narrow, { rows: 5, cols: 33, centred: true, weight: true, bias: true, seed: 3, shift: 0 });
  });

  it('empty inputs give empty outputs and zero parameter gradients', async () => {
    const x = { storage: b.alloc('float32', 0), dtype: 'float32' as const, shape: [0, 4], strides: [4, 1], offset: 0 };
    const w = { storage: b.fill('float32', 4, 1), dtype: 'float32' as const, shape: [4], strides: [1], offset: 0 };
    const f = b.layerNorm(x, w, null, 4, 1e-5);
    const g = b.layerNormBackward(x, x, w, f, 4, { input: true, weight: true, bias: true });
    expect(Array.from(await b.read(g.dweight!, 'float32', 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(await b.read(g.dbias!, 'float32', 4))).toEqual([0, 0, 0, 0]);
  });

  it('float64 and mismatched operands are rejected with the op and shapes', () => {
    const s = b.alloc('float32', 6);
    const x = { storage: s, dtype: 'float32' as const, shape: [2, 3], strides: [3, 1], offset: 0 };
    expect(() => b.layerNorm({ ...x, dtype: 'float64' }, null, null, 3, 1e-5)).toThrow(/webgpu layerNorm float64 \[2, 3\] rows of 3: float32, float16 or bfloat16 only, got float64/);
    expect(() => b.layerNorm(x, null, null, 4, 1e-5)).toThrow(/\[2, 3\] is not rows of 4/);
  });
});
