import type { View } from '@siftjs/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, at, randomData } from './helpers.js';
import { idsView } from './indexing-cases.js';

const { backend: be, reason } = await acquire();

describe.skipIf(!be)(`webgpu gatherRows (${reason})`, () => {
  const b = be as WebGpuBackend;

  it('gatherRows picks table rows by id, for any table layout and strided ids', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 60, max: 300 })),
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
        async (V, D, seed, transposed, strided, len) => {
          const ids = Array.from(randomData(len % 50, seed, 0, V), Math.floor);
          const l = transposed ? { strides: [1, V], offset: 2, length: 2 + V * D } : { strides: [D, 1], offset: 2, length: 2 + V * D };
          const data = randomData(l.length, seed);
          const table: View = { storage: b.upload('float32', data), dtype: 'float32', shape: [V, D], strides: l.strides, offset: l.offset };
          const iv = idsView(b, ids, strided);
          const out = b.gatherRows(table, iv);
          const got = await b.read(out, 'float32', ids.length * D);
          const want = ids.flatMap((id) => Array.from({ length: D }, (_, j) => at(data, table, [id, j])));
          expect(Array.from(got)).toEqual(want.map(Math.fround));
          for (const s of [table.storage, iv.storage, out]) b.free(s);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('an id out of range is reported at the next read with the CPU message, and only once', async () => {
    const table: View = { storage: b.upload('float32', randomData(8, 1)), dtype: 'float32', shape: [4, 2], strides: [2, 1], offset: 0 };
    const out = b.gatherRows(table, idsView(b, [1, 9, 2], false));
    await expect(b.read(out, 'float32', 6)).rejects.toThrow(/embedding: index 9 is out of range for 4 elements/);
    const got = await b.read(out, 'float32', 6);
    expect(Array.from(got.slice(2, 4))).toEqual([0, 0]);
  });

  it('a table that is not [rows, cols] throws at once with the op and shapes', () => {
    const src: View = { storage: b.alloc('float32', 4), dtype: 'float32', shape: [4], strides: [1], offset: 0 };
    expect(() => b.gatherRows(src, idsView(b, [0, 1], false))).toThrow(/gatherRows float32 table \[4\], ids int32 \[2\]: the table must be \[rows, cols\]/);
  });
});
