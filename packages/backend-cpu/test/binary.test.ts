import { fc, test } from '@fast-check/vitest';
import type { BinaryOp } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { shapeArb, simd, ts, values, view } from './tiers.js';

/** binary: the WebAssembly SIMD kernel against the TypeScript one. */
describe('binary: WebAssembly SIMD kernel', () => {
  it('is in use here', () => {
    expect(simd.info().description).toContain('add/sub/mul/div');
    expect(ts.info().description).not.toContain('add/sub/mul/div');
  });

  test.prop(
    [
      shapeArb,
      fc.constantFrom<BinaryOp>('add', 'sub', 'mul', 'div', 'pow', 'maximum'),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fc.boolean(),
      fc.boolean(),
      fc.integer(),
    ],
    { numRuns: 200 },
  )('binary ops give the TypeScript kernel\'s bits over broadcast and transposed operands', (shape, op, ba, bb, ta, specials, seed) => {
    const size = shape.reduce((x, y) => x * y, 1);
    const [da, db] = [values(seed, size, specials), values(seed ^ 0x5bd1e995, size, specials)];
    const [ra, rb] = [simd, ts].map((be) => {
      const a = view(be, da, shape, ba, ta);
      const b = view(be, db, shape, bb, false);
      const out = be.binary(op, a, b);
      const got = Array.from(be.readSync(out, 'float32', size));
      for (const st of [a.storage, b.storage, out]) be.free(st);
      return got;
    });
    expect(ra).toEqual(rb);
  });

  it('frees its scratch', () => {
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
});
