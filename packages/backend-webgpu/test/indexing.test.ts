import type { View } from '@siftjs/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, acquireNarrow, at, coords, layout, randomData, size } from './helpers.js';

const { backend: be, reason } = await acquire();
const narrow = be ? await acquireNarrow() : null;
afterAll(() => narrow?.destroy());

/** Ids as a view: contiguous, or every other element of a longer buffer (a strided index view), at an offset. */
function idsView(b: WebGpuBackend, ids: number[], strided: boolean): View {
  const off = 1;
  const step = strided ? 2 : 1;
  const data = new Int32Array(off + ids.length * step).fill(-7);
  ids.forEach((id, i) => (data[off + i * step] = id));
  return { storage: b.upload('int32', data), dtype: 'int32', shape: [ids.length], strides: [step], offset: off };
}

/** The CPU's scatter-add: a float32 accumulator, sources added in position order (each sum rounded to f32). */
function sequentialF32(init: Float32Array, ids: number[], src: ArrayLike<number>, d: number): Float32Array {
  const out = Float32Array.from(init);
  ids.forEach((id, i) => {
    for (let j = 0; j < d; j++) out[id * d + j] = Math.fround(out[id * d + j] + src[i * d + j]);
  });
  return out;
}

/** Float64 sums, and the magnitude each is measured against. */
function float64Sums(rows: number, ids: number[], src: ArrayLike<number>, d: number): { sum: Float64Array; mag: Float64Array } {
  const sum = new Float64Array(rows * d);
  const mag = new Float64Array(rows * d);
  ids.forEach((id, i) => {
    for (let j = 0; j < d; j++) {
      sum[id * d + j] += src[i * d + j];
      mag[id * d + j] += Math.abs(src[i * d + j]);
    }
  });
  return { sum, mag };
}

/** Short id lists, and lists longer than one sort block (513+ pairs: the sort's global stages run). */
const idsArb = (maxId: number, maxLen: number) => {
  const id = fc.integer({ min: 0, max: maxId - 1 });
  return fc.oneof(fc.array(id, { maxLength: 40 }), fc.array(id, { minLength: 513, maxLength: maxLen }));
};

describe.skipIf(!be)(`webgpu gatherRows / scatterAddRows (${reason})`, () => {
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

  it('an id out of range is reported at the next read with the CPU message, and only once', async () => {
    const table: View = { storage: b.upload('float32', randomData(8, 1)), dtype: 'float32', shape: [4, 2], strides: [2, 1], offset: 0 };
    const out = b.gatherRows(table, idsView(b, [1, 9, 2], false));
    await expect(b.read(out, 'float32', 6)).rejects.toThrow(/embedding: index 9 is out of range for 4 elements/);
    const got = await b.read(out, 'float32', 6);
    expect(Array.from(got.slice(2, 4))).toEqual([0, 0]);
    const src: View = { storage: b.upload('float32', new Float32Array(6)), dtype: 'float32', shape: [3, 2], strides: [2, 1], offset: 0 };
    b.scatterAddRows(4, idsView(b, [0, -1, 3], false), src);
    await expect(b.sync()).rejects.toThrow(RangeError);
    await expect(b.sync()).resolves.toBeUndefined();
  });
});

describe.skipIf(!be)(`webgpu gatherFlat / scatterFlat (${reason})`, () => {
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
    const x: View = { storage: b.upload('float32', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])), dtype: 'float32', shape: [4, 2], strides: [2, 1], offset: 0 };
    const g = b.gatherFlat(x, idsView(b, [3, 9, 0], true));
    await expect(b.read(g, 'float32', 3)).rejects.toThrow(/^gatherFlat: index 9 is out of range for 8 elements/);
    expect(Array.from(await b.read(g, 'float32', 3))).toEqual([4, 0, 1]);
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
    expect(() => b.gatherRows({ ...src, shape: [4], strides: [1] }, ids)).toThrow(/gatherRows float32 table \[4\], ids int32 \[2\]: the table must be \[rows, cols\]/);
    expect(() => b.gatherFlat({ ...src, dtype: 'float64' }, ids)).toThrow(/float64 is not supported on WebGPU/);
  });
});
