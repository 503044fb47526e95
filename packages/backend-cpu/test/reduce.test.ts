import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { shapeArb, simd, ts, values, view } from './tiers.js';

/** reduce: the WebAssembly SIMD sums against the TypeScript ones. */
describe('reduce: WebAssembly SIMD sums', () => {
  test.prop([shapeArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.boolean(), fc.boolean(), fc.integer()], { numRuns: 200 })(
    'sums over any axes give the TypeScript kernel\'s bits',
    (shape, which, transpose, specials, seed) => {
      const axes = shape.map((_, i) => i).filter((i) => which[i]);
      const size = shape.reduce((x, y) => x * y, 1);
      const data = values(seed, size, specials);
      const [ra, rb] = [simd, ts].map((be) => {
        const x = view(be, data, shape, [], transpose);
        const out = be.reduce('sum', x, axes);
        const n = size / axes.reduce((p, a) => p * shape[a], 1);
        const got = Array.from(be.readSync(out, 'float32', n));
        for (const st of [x.storage, out]) be.free(st);
        return got;
      });
      expect(ra).toEqual(rb);
    },
  );

  it('frees its scratch', () => {
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
});
