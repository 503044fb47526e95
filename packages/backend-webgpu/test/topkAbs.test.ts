import type { View } from '@siftjs/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, acquireNarrow, at, coords, layout, randomData, size } from './helpers.js';

const { backend: be, reason } = await acquire();
const narrow = be ? await acquireNarrow() : null;
afterAll(() => narrow?.destroy());

/** The specification, naively: every position sorted by |x| descending (NaN as +∞), ties by lower position. */
function reference(flat: number[], k: number): number[] {
  const mag = flat.map((v) => (Number.isNaN(v) ? Infinity : Math.abs(v)));
  return flat
    .map((_, i) => i)
    .sort((p, q) => mag[q] - mag[p] || p - q)
    .slice(0, k);
}

/** Values with many ties (small integers of both signs), and now and then NaN, ±∞ and −0. */
function values(n: number, seed: number, dtype: 'float32' | 'int32', ties: boolean): Float32Array | Int32Array {
  const r = randomData(n, seed, ties ? -4 : -1000, ties ? 4 : 1000);
  if (dtype === 'int32') {
    const a = Int32Array.from(r, Math.round);
    if (n > 3) [a[0], a[n - 1]] = [-(2 ** 31), 2 ** 31 - 1];
    return a;
  }
  const a = ties ? Float32Array.from(r, Math.round) : r;
  const special = [Number.NaN, Infinity, -Infinity, -0];
  for (let i = seed % 7; i < n; i += 37) a[i] = special[i % 4];
  return a;
}

describe.skipIf(!be)(`webgpu topkAbs (${reason})`, () => {
  const b = be as WebGpuBackend;

  const check = (shape: number[], k: number, seed: number, dtype: 'float32' | 'int32', ties: boolean, strided: boolean) => checkOn(b, shape, k, seed, dtype, ties, strided);

  async function checkOn(b: WebGpuBackend, shape: number[], k: number, seed: number, dtype: 'float32' | 'int32', ties: boolean, strided: boolean): Promise<void> {
    const l = strided ? layout(shape, seed) : { strides: shape.map((_, i) => size(shape.slice(i + 1))), offset: seed % 3, length: (seed % 3) + size(shape) };
    const data = values(l.length, seed, dtype, ties);
    const x: View = { storage: b.upload(dtype, data), dtype, shape, strides: l.strides, offset: l.offset };
    const flat = [...coords(shape)].map((c) => at(data, x, c));
    const want = reference(flat, k);
    const r = b.topkAbs(x, k);
    const what = `topkAbs ${dtype} ${JSON.stringify(shape)} k ${k} seed ${seed}`;
    expect(Array.from(await b.read(r.indices, 'int32', k)), what).toEqual(want);
    expect(Array.from(await b.read(r.values, dtype, k)), what).toEqual(want.map((i) => flat[i]));
    for (const s of [x.storage, r.values, r.indices]) b.free(s);
  }

  it('indices of the k largest |x|, by |x| descending, ties to the lower index (NaN as +∞), values as x', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.constantFrom('float32' as const, 'int32' as const),
        fc.boolean(),
        fc.boolean(),
        async (shape, frac, seed, dtype, ties, strided) => check(shape, Math.round(frac * size(shape)), seed, dtype, ties, strided),
      ),
      { numRuns: 30 },
    );
  });

  it('large inputs: k past one sort block, all equal magnitudes, k = n, k = 0, one element', async () => {
    await check([5000], 700, 11, 'float32', false, false);
    await check([3, 1700], 1500, 12, 'float32', true, true);
    await check([2000], 2000, 13, 'int32', true, false);
    await check([70, 70], 0, 14, 'float32', false, false);
    await check([1], 1, 15, 'float32', false, false);
    const zeros: View = { storage: b.alloc('float32', 1000), dtype: 'float32', shape: [1000], strides: [1], offset: 0 };
    const r = b.topkAbs(zeros, 600);
    expect(Array.from(await b.read(r.indices, 'int32', 600))).toEqual([...Array(600).keys()]);
  });

  it('the same on a device with the default limits (half the workgroup, so half the sort block)', async () => {
    if (!narrow) throw new Error('no second device');
    await checkOn(narrow, [1500], 300, 21, 'float32', false, false);
    await checkOn(narrow, [40, 13], 77, 22, 'int32', true, true);
  });

  it('k outside [0, n] is rejected with the shape', () => {
    const x: View = { storage: b.alloc('float32', 6), dtype: 'float32', shape: [2, 3], strides: [3, 1], offset: 0 };
    expect(() => b.topkAbs(x, 7)).toThrow('webgpu topkAbs: k = 7 is out of range for 6 elements [2, 3]');
    expect(() => b.topkAbs({ ...x, dtype: 'float64' }, 2)).toThrow(/float64 is not supported on WebGPU/);
  });
});
