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

  it('a sum longer than a row job\'s chunk (summed in chunks over the threads) gives the TypeScript kernel\'s bits', () => {
    const n = 600_011; // past a streaming job's first chunk (256K elements, threads/chunks.ts)
    const data = values(11, n, false).map((v, i) => v + (i % 7) * 1e3);
    const [ra, rb] = [simd, ts].map((be) => {
      const x = view(be, data, [n], [], false);
      const out = be.reduce('sum', x, [0]);
      const got = be.readSync(out, 'float32', 1)[0];
      for (const st of [x.storage, out]) be.free(st);
      return got;
    });
    expect(ra).toBe(rb);
  });

  it('frees its scratch', () => {
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
});
