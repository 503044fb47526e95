import type { View } from '@siftjs/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, at, coords, layout, randomData, size } from './helpers.js';
import { idsView } from './indexing-cases.js';

const { backend: be, reason } = await acquire();

describe.skipIf(!be)(`webgpu gatherFlat (${reason})`, () => {
  const b = be as WebGpuBackend;

  it('gatherFlat reads row-major positions of any strided (even broadcast) view, int32 and float32', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 4 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.boolean(),
        fc.constantFrom('float32' as const, 'int32' as const),
        fc.nat(),
        async (shape, seed, strided, dtype, len) => {
          const l = layout(shape, seed, { broadcast: true });
          const f = randomData(l.length, seed, -100, 100);
          const data = dtype === 'float32' ? f : Int32Array.from(f, Math.round);
          const x: View = { storage: b.upload(dtype, data), dtype, shape, strides: l.strides, offset: l.offset };
          const n = size(shape);
          const ids = Array.from(randomData(len % 300, seed + 1, 0, n), Math.floor);
          const flat = [...coords(shape)].map((c) => at(data, x, c));
          const iv = idsView(b, ids, strided);
          const out = b.gatherFlat(x, iv);
          expect(Array.from(await b.read(out, dtype, ids.length))).toEqual(ids.map((i) => flat[i]));
          for (const s of [x.storage, iv.storage, out]) b.free(s);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('out-of-range flat indices: the in-range ones still apply, the error names the op at the next read', async () => {
    const x: View = { storage: b.upload('float32', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])), dtype: 'float32', shape: [4, 2], strides: [2, 1], offset: 0 };
    const g = b.gatherFlat(x, idsView(b, [3, 9, 0], true));
    await expect(b.read(g, 'float32', 3)).rejects.toThrow(/^gatherFlat: index 9 is out of range for 8 elements/);
    expect(Array.from(await b.read(g, 'float32', 3))).toEqual([4, 0, 1]);
  });

  it('a float64 view throws at once with the op', () => {
    const src: View = { storage: b.alloc('float32', 4), dtype: 'float64', shape: [3], strides: [1], offset: 0 };
    expect(() => b.gatherFlat(src, idsView(b, [0, 1], false))).toThrow(/float64 is not supported on WebGPU/);
  });
});
