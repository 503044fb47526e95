import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { BFLOAT16, BINARY16, decodeHalf, roundToHalf } from '../../../tests/reference/half-format.js';
import { CpuBackend } from '../src/backend.js';

/**
 * Casts between float32 and the half formats of strided views (permuted, offset, size-1 dims): kernels/cast.ts takes
 * them a slice of the leading dim at a time through the SIMD runs. Each element against the IEEE reference.
 */
const b = new CpuBackend({ threads: 1 });
afterAll(() => b.dispose());

const FORMATS = { float16: BINARY16, bfloat16: BFLOAT16 } as const;

it('float32 ↔ float16 / bfloat16 of permuted, offset views: every element as the IEEE reference rounds or widens it', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 0, max: 5 }),
      fc.constantFrom('float16' as const, 'bfloat16' as const),
      fc.integer({ min: 0, max: 1000 }),
      (shape, offset, dtype, seed) => {
        const n = shape.reduce((a, c) => a * c, 1);
        // A row-major buffer of the reversed shape, viewed permuted (every axis reversed): a transpose of it.
        const rev = [...shape].reverse();
        const revStrides = rev.map((_, i) => rev.slice(i + 1).reduce((a, c) => a * c, 1));
        const strides = [...revStrides].reverse();
        let s = seed;
        const data = Float32Array.from({ length: n + offset }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 2 ** ((s >>> 8) % 40 - 20));
        const at = (coord: number[]) => offset + coord.reduce((a, c, i) => a + c * strides[i], 0);
        const coords: number[][] = [];
        const c = new Array(shape.length).fill(0);
        for (let i = 0; i < n; i++) {
          coords.push([...c]);
          for (let d = shape.length - 1; d >= 0 && ++c[d] === shape[d]; d--) c[d] = 0;
        }
        const f32 = b.upload('float32', data);
        const narrowed = b.cast({ storage: f32, dtype: 'float32', shape, strides, offset }, dtype);
        const bits = b.readSync(narrowed, dtype, n) as Uint16Array;
        coords.forEach((co, i) => expect(bits[i]).toBe((roundToHalf(data[at(co)], FORMATS[dtype]) as { bits: number }).bits));
        // Back: the half patterns laid out in the same permuted way, widened.
        const halfData = new Uint16Array(n + offset);
        coords.forEach((co, i) => (halfData[at(co)] = bits[i]));
        const h = b.upload(dtype, halfData);
        const widened = b.cast({ storage: h, dtype, shape, strides, offset }, 'float32');
        const back = b.readSync(widened, 'float32', n) as Float32Array;
        coords.forEach((_, i) => expect(back[i]).toBe(Math.fround(decodeHalf(bits[i], FORMATS[dtype]))));
        for (const st of [f32, narrowed, h, widened]) b.free(st);
      },
    ),
    { numRuns: 200 },
  );
});
