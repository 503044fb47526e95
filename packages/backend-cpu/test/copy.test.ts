import { fc, test } from '@fast-check/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backend.js';
import { shapeArb, simd, ts, values, view } from './tiers.js';

/** copy (a strided view made contiguous): WebAssembly's copy32 against the TypeScript loop, bit for bit. */
describe('copy: WebAssembly copy32 and the TypeScript loop', () => {
  test.prop([shapeArb, fc.array(fc.boolean(), { maxLength: 4 }), fc.boolean(), fc.boolean(), fc.constantFrom('float32' as const, 'int32' as const), fc.integer()], { numRuns: 150 })(
    'transposed, broadcast and plain views copy to the same bits (NaN payloads and -0 included)',
    (shape, bcast, transpose, specials, dtype, seed) => {
      const size = shape.reduce((x, y) => x * y, 1);
      const data = values(seed, size, specials);
      const bits = dtype === 'int32' ? new Int32Array(data.buffer) : data;
      const [ra, rb] = [simd, ts].map((be) => {
        const v = view(be, data, shape, bcast, transpose);
        const x = dtype === 'int32' ? { ...v, storage: be.upload('int32', bits as Int32Array), dtype } : v;
        if (x !== v) be.free(v.storage);
        const out = be.copy(x);
        const got = Array.from(new Int32Array(be.readSync(out, dtype, size).buffer.slice(0)));
        be.free(x.storage);
        be.free(out);
        return got;
      });
      expect(ra).toEqual(rb);
    },
  );

  it('a run longer than a row job\'s chunk (a contiguous view, a broadcast value) is copied whole over two threads', async () => {
    const two = new CpuBackend({ threads: 2, blas: false });
    await two.init();
    afterAll(() => two.dispose());
    const n = 600_011; // past a streaming job's first chunk (256K elements, threads/chunks.ts)
    const data = values(5, n, true);
    for (const strides of [[1], [0]]) {
      const x = { storage: two.upload('float32', data), dtype: 'float32' as const, shape: [n], strides, offset: 0 };
      const out = two.copy(x);
      const got = new Int32Array(two.readSync(out, 'float32', n).buffer.slice(0));
      const want = new Int32Array(Float32Array.from({ length: n }, (_, i) => data[strides[0] * i]).buffer);
      expect(Array.from(got)).toEqual(Array.from(want));
      two.free(x.storage);
      two.free(out);
    }
  });

  it('frees its scratch', () => {
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
});
