import type { View } from '@siftjs/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, randomData } from './helpers.js';
import { idsArb, idsView, sequentialF32 } from './indexing-cases.js';

const { backend: be, reason } = await acquire();

describe.skipIf(!be)(`webgpu scatterFlat (${reason})`, () => {
  const b = be as WebGpuBackend;

  it("scatterFlat 'add' with repeated indices is bit-identical to the CPU's in-order float32 sums", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 50 }), idsArb(50, 1200), fc.integer({ min: 1, max: 2 ** 30 }), fc.boolean(), async (n, raw, seed, strided) => {
        const ids = raw.map((i) => i % n);
        const init = randomData(n, seed, -1, 1);
        const dst = b.upload('float32', init);
        const src = randomData(ids.length, seed + 2, -5, 5);
        const sv: View = { storage: b.upload('float32', src), dtype: 'float32', shape: [ids.length], strides: [1], offset: 0 };
        const iv = idsView(b, ids, strided);
        b.scatterFlat(dst, 'float32', iv, sv, 'add');
        const got = await b.read(dst, 'float32', n);
        expect(Array.from(got)).toEqual(Array.from(sequentialF32(init, ids, src, 1)));
        for (const s of [dst, sv.storage, iv.storage]) b.free(s);
      }),
      { numRuns: 25 },
    );
  });

  it("scatterFlat 'set' writes distinct indices; int32 'add' sums exactly", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 2 ** 30 }), async (n, seed) => {
        // A random subset of positions in random order.
        const order = Array.from(randomData(n, seed), (v, i) => [v, i] as const)
          .sort((p, q) => p[0] - q[0])
          .map(([, i]) => i);
        const ids = order.slice(0, Math.ceil(n / 3));
        const init = randomData(n, seed + 1);
        const dst = b.upload('float32', init);
        const src = randomData(ids.length, seed + 2);
        b.scatterFlat(dst, 'float32', idsView(b, ids, false), { storage: b.upload('float32', src), dtype: 'float32', shape: [ids.length], strides: [1], offset: 0 }, 'set');
        const want = Float32Array.from(init);
        ids.forEach((id, i) => (want[id] = src[i]));
        expect(Array.from(await b.read(dst, 'float32', n))).toEqual(Array.from(want));

        const idst = b.upload('int32', new Int32Array(7));
        const rep = ids.map((i) => i % 7);
        b.scatterFlat(idst, 'int32', idsView(b, rep, true), { storage: b.upload('int32', Int32Array.from(rep, (_, i) => i - 5)), dtype: 'int32', shape: [rep.length], strides: [1], offset: 0 }, 'add');
        const iwant = new Array<number>(7).fill(0);
        rep.forEach((id, i) => (iwant[id] += i - 5));
        expect(Array.from(await b.read(idst, 'int32', 7))).toEqual(iwant);
      }),
      { numRuns: 12 },
    );
  });

  it('out-of-range flat indices: the in-range ones still apply, the error names the op at the next read', async () => {
    const dst = b.upload('float32', new Float32Array(4));
    const src: View = { storage: b.upload('float32', Float32Array.from([1, 2, 3])), dtype: 'float32', shape: [3], strides: [1], offset: 0 };
    for (const mode of ['set', 'add'] as const) {
      b.scatterFlat(dst, 'float32', idsView(b, [2, 4, 2], false), src, mode);
      await expect(b.read(dst, 'float32', 4)).rejects.toThrow(/^scatterFlat: index 4 is out of range for 4 elements/);
    }
    // 'set' left 3 at position 2 (one of the repeated writes), then 'add' added 1 + 3.
    expect([[0, 0, 7, 0], [0, 0, 5, 0]]).toContainEqual(Array.from(await b.read(dst, 'float32', 4)));
  });

  it('mismatched sizes and dtypes throw at once with the op and shapes', () => {
    const s = b.alloc('float32', 4);
    const ids = idsView(b, [0, 1], false);
    const src: View = { storage: s, dtype: 'float32', shape: [3], strides: [1], offset: 0 };
    expect(() => b.scatterFlat(s, 'float32', ids, src, 'add')).toThrow('webgpu scatterFlat add float32, idx [2], src float32 [3]: 3 values for 2 indices');
    expect(() => b.scatterFlat(s, 'int32', ids, src, 'set')).toThrow(/src is float32, the destination int32/);
  });
});
