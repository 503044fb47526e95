import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { simd, ts, values } from './tiers.js';

/** adamw: the WebAssembly SIMD step against the TypeScript one. */
describe('adamw: WebAssembly SIMD kernel', () => {
  it('is in use here', () => {
    expect(simd.info().description).toContain('AdamW');
  });

  test.prop([fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 50 }), fc.boolean(), fc.integer()], { numRuns: 40 })(
    'AdamW gives the TypeScript kernel\'s bits (several steps)',
    (n, step, decay, seed) => {
      const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: decay ? 0.01 : 0, step };
      const init = [values(seed, n, false), values(seed + 1, n, false), values(seed + 2, n, false).map(Math.abs), values(seed + 3, n, false)];
      const [ra, rb] = [simd, ts].map((be) => {
        const [p, m, v, g] = init.map((d) => be.upload('float32', d));
        for (let s = 0; s < 3; s++) be.adamw(p, g, m, v, 'float32', n, { ...h, step: step + s });
        const got = [p, m, v].map((st) => Array.from(be.readSync(st, 'float32', n)));
        for (const st of [p, m, v, g]) be.free(st);
        return got;
      });
      expect(ra).toEqual(rb);
    },
  );

  it('frees its scratch', () => {
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
});
