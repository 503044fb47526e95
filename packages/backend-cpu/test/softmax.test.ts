import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { simd, ts, values, view } from './tiers.js';

/** softmax and softmaxBackward: the WebAssembly SIMD rows against the TypeScript ones. */
describe('softmax: WebAssembly SIMD rows', () => {
  test.prop([fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 300 }), fc.boolean(), fc.boolean(), fc.integer()], { numRuns: 100 })(
    'softmax and log-softmax rows, forward and backward, match the TypeScript kernels',
    (rows, cols, log, specials, seed) => {
      const size = rows * cols;
      const x = values(seed, size, specials);
      const dy = values(seed + 1, size, false);
      const [ra, rb] = [simd, ts].map((be) => {
        const xv = view(be, x, [rows, cols], [], false);
        const y = be.softmax(xv, cols, log);
        const dyv = view(be, dy, [rows, cols], [], false);
        const dx = be.softmaxBackward({ ...xv, storage: y }, dyv, cols, log);
        const got = [Array.from(be.readSync(y, 'float32', size)), Array.from(be.readSync(dx, 'float32', size))];
        for (const st of [xv.storage, y, dyv.storage, dx]) be.free(st);
        return got;
      });
      // Row sums run in another order: equal to float64 rounding, so the outputs agree to ~1e-6 of the row's scale.
      for (const k of [0, 1]) {
        for (let i = 0; i < size; i++) {
          const [a, b] = [ra[k][i], rb[k][i]];
          if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
          const scale = Math.max(1, ...rb[k].slice(i - (i % cols), i - (i % cols) + cols).map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
          expect(Math.abs(a - b)).toBeLessThanOrEqual(2e-6 * scale);
        }
      }
    },
  );

  it('a softmax row of -inf gives NaN, as the TypeScript kernel and PyTorch do', () => {
    for (const log of [false, true]) {
      const x = view(simd, new Float32Array(6).fill(-Infinity), [1, 6], [], false);
      const y = simd.softmax(x, 6, log);
      expect(Array.from(simd.readSync(y, 'float32', 6)).every(Number.isNaN)).toBe(true);
      simd.free(x.storage);
      simd.free(y);
    }
  });

  it('frees its scratch', () => {
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
});
