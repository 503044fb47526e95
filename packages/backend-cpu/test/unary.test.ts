import { fc, test } from '@fast-check/vitest';
import type { UnaryOp } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { UNARY, UNARY_ROWS } from '../src/kernels/support/unary-ops.js';
import { mapUnary } from '../src/kernels/unary.js';
import { shapeArb, simd, ts, values, view } from './tiers.js';

/** unary: the per-op TypeScript loops and the WebAssembly SIMD kernel against the generic TypeScript loop. */
describe('unary: WebAssembly SIMD and per-op kernels', () => {
  test.prop([shapeArb, fc.constantFrom(...(Object.keys(UNARY_ROWS) as UnaryOp[])), fc.boolean(), fc.integer()], { numRuns: 100 })(
    'unary ops written out per op give the generic loop\'s bits',
    (shape, op, transpose, seed) => {
      const size = shape.reduce((x, y) => x * y, 1);
      const data = values(seed, size, true);
      const g = view(ts, data, shape, [], transpose);
      ts.free(g.storage);
      const [fast, generic] = [new Float32Array(size), new Float32Array(size)];
      mapUnary(UNARY[op], data, g, fast, UNARY_ROWS[op]);
      mapUnary(UNARY[op], data, g, generic);
      expect(Array.from(fast)).toEqual(Array.from(generic));
    },
  );

  /** Within one float32 ulp (bit patterns of the same sign), and the same NaN / ±inf / ±0. */
  function closeBits(a: number[], b: number[]): void {
    const f = new Float32Array(2);
    const u = new Int32Array(f.buffer);
    for (let i = 0; i < a.length; i++) {
      if (Object.is(a[i], b[i])) continue;
      f[0] = a[i];
      f[1] = b[i];
      if (!(Number.isFinite(a[i]) && Number.isFinite(b[i]) && Math.abs(u[0] - u[1]) <= 1 && a[i] !== 0 && b[i] !== 0)) {
        throw new Error(`element ${i}: ${a[i]} vs ${b[i]}`);
      }
    }
  }

  test.prop([shapeArb, fc.constantFrom<UnaryOp>('exp', 'tanh', 'geluTanh', 'geluTanhGrad', 'sigmoid', 'erf', 'gelu', 'geluGrad'), fc.boolean(), fc.boolean(), fc.integer()], { numRuns: 150 })(
    'exp, tanh, both gelus and their derivatives, sigmoid and erf round to the TypeScript kernel\'s float32 (within an ulp; specials exactly)',
    (shape, op, transpose, specials, seed) => {
      const size = shape.reduce((x, y) => x * y, 1);
      const data = values(seed, size, specials);
      const [ra, rb] = [simd, ts].map((be) => {
        const x = view(be, data, shape, [], transpose);
        const out = be.unary(op, x);
        const got = Array.from(be.readSync(out, 'float32', size));
        be.free(x.storage);
        be.free(out);
        return got;
      });
      closeBits(ra, rb);
    },
  );

  it('frees its scratch', () => {
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
});
