import type { View } from '@siftjs/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, acquireNarrow, randomData } from './helpers.js';
import { float64Sums, idsArb, idsView, sequentialF32 } from './indexing-cases.js';

const { backend: be, reason } = await acquire();
const narrow = be ? await acquireNarrow() : null;
afterAll(() => narrow?.destroy());

describe.skipIf(!be)(`webgpu scatterAddRows (${reason})`, () => {
  const b = be as WebGpuBackend;

  it('scatterAddRows sums repeated ids in position order: bit-identical to the CPU, close to float64', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 60, max: 130 })),
        idsArb(12, 700),
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.boolean(),
        async (rows, D, rawIds, seed, strided) => {
          const ids = rawIds.map((i) => i % rows);
          const src = randomData(3 + ids.length * D, seed, -3, 3);
          const sv: View = { storage: b.upload('float32', src), dtype: 'float32', shape: [ids.length, D], strides: [D, 1], offset: 3 };
          const iv = idsView(b, ids, strided);
          const out = b.scatterAddRows(rows, iv, sv);
          const got = await b.read(out, 'float32', rows * D);
          expect(Array.from(got)).toEqual(Array.from(sequentialF32(new Float32Array(rows * D), ids, src.subarray(3), D)));
          const { sum, mag } = float64Sums(rows, ids, src.subarray(3), D);
          got.forEach((g, i) => expect(Math.abs(g - sum[i])).toBeLessThanOrEqual(1e-6 * mag[i] * Math.max(1, ids.length)));
          for (const s of [sv.storage, iv.storage, out]) b.free(s);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('scatterAddRows of 3000 ids into 7 rows (one long run per row; the sort spans several blocks) is deterministic', async () => {
    for (const bk of [b, narrow!]) await longRuns(bk);
  });

  async function longRuns(b: WebGpuBackend): Promise<void> {
    const n = 3000;
    const D = 5;
    const ids = Array.from(randomData(n, 4, 0, 7), Math.floor);
    const src = randomData(n * D, 5);
    const sv: View = { storage: b.upload('float32', src), dtype: 'float32', shape: [n, D], strides: [D, 1], offset: 0 };
    const iv = idsView(b, ids, false);
    const first = await b.read(b.scatterAddRows(7, iv, sv), 'float32', 7 * D);
    const second = await b.read(b.scatterAddRows(7, iv, sv), 'float32', 7 * D);
    expect(Array.from(first)).toEqual(Array.from(sequentialF32(new Float32Array(7 * D), ids, src, D)));
    expect(Array.from(second)).toEqual(Array.from(first));
  }

  it('an id out of range is reported at the next sync, and only once', async () => {
    const src: View = { storage: b.upload('float32', new Float32Array(6)), dtype: 'float32', shape: [3, 2], strides: [2, 1], offset: 0 };
    b.scatterAddRows(4, idsView(b, [0, -1, 3], false), src);
    await expect(b.sync()).rejects.toThrow(RangeError);
    await expect(b.sync()).resolves.toBeUndefined();
  });
});
