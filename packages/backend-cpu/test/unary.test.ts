import { fc, test } from '@fast-check/vitest';
import type { UnaryOp } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { UNARY, UNARY_ROWS } from '../src/kernels/support/unary-ops.js';
import { mapUnary } from '../src/kernels/unary.js';
import { shapeArb, simd, ts, values, view } from './tiers.js';
import { ROW_OPS, unaryReference, withinBound } from './unary-bounds.js';

/** unary: the per-op TypeScript loops against the generic TypeScript loop, and the WebAssembly SIMD kernel against float64 math. */
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

  test.prop([shapeArb, fc.constantFrom(...ROW_OPS), fc.boolean(), fc.boolean(), fc.constantFrom(1, 8, 40), fc.integer()], { numRuns: 200 })(
    'exp, tanh, sigmoid, both gelus and their derivatives and erf in float32 lanes are within their derived error bounds of float64 math (specials, zeros\' signs and overflow exactly)',
    (shape, op, transpose, specials, scale, seed) => {
      const size = shape.reduce((x, y) => x * y, 1);
      const data = values(seed, size, specials, scale);
      const x = view(simd, data, shape, [], transpose);
      const out = simd.unary(op, x);
      const got = simd.readSync(out, 'float32', size);
      simd.free(x.storage);
      simd.free(out);
      // the output is contiguous in the view's logical order
      const logical = logicalOrder(data, shape, transpose);
      for (let i = 0; i < size; i++) {
        const { value, bound } = unaryReference(op, logical[i]);
        if (!withinBound(got[i], logical[i], value, bound)) throw new Error(`${op}(${logical[i]}) = ${got[i]}, exact ${value} ± ${bound}`);
      }
    },
  );

  it('frees its scratch', () => {
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
});

/** The elements of `data` laid out as `view(…, shape, [], transpose)` reads them, in row-major order of `shape`. */
function logicalOrder(data: Float32Array, shape: number[], transpose: boolean): number[] {
  const size = shape.reduce((x, y) => x * y, 1);
  if (!transpose || shape.length < 2) return Array.from(data.subarray(0, size));
  const [r, c] = shape.slice(-2);
  const out: number[] = [];
  for (let b = 0; b < size / (r * c); b++) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out.push(data[b * r * c + j * r + i]);
  return out;
}
