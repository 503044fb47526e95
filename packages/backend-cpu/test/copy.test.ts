import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
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

  it('frees its scratch', () => {
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
});
