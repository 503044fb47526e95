import { fc } from '@fast-check/vitest';
import type { View } from '@siftjs/tensor';
import { CpuBackend } from '../src/backend.js';

/**
 * The CPU's two kernel tiers side by side, for the tests that hold the WebAssembly SIMD kernels to the TypeScript
 * ones (the elementwise kernels: the same bits, whatever the layout) or both to float64 math: one thread each, no BLAS.
 */
export const simd = new CpuBackend({ threads: 1, blas: false });
export const ts = new CpuBackend({ threads: 1, simd: false, blas: false });

/** Deterministic float32 inputs in (−scale, scale); with `specials`, about one in 13 is 0, -0, ±inf, NaN, a subnormal or -3e38. */
export function values(seed: number, length: number, specials: boolean, scale = 8): Float32Array {
  let s = seed | 0;
  const out = new Float32Array(length);
  const odd = [0, -0, Infinity, -Infinity, NaN, 1e-40, -3e38];
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    out[i] = specials && (s >>> 4) % 13 === 0 ? odd[(s >>> 8) % odd.length] : ((s >>> 8) / 2 ** 23 - 1) * scale;
  }
  return out;
}

/** A view of `shape` over `data`, broadcast along the dims in `bcast` (stride 0), optionally transposed (last two dims). */
export function view(b: CpuBackend, data: Float32Array, shape: number[], bcast: boolean[], transpose: boolean): View {
  const dims = shape.map((d, i) => (bcast[i] ? 1 : d));
  const order = dims.map((_, i) => i);
  if (transpose && dims.length >= 2) [order[dims.length - 2], order[dims.length - 1]] = [order[dims.length - 1], order[dims.length - 2]];
  // storage laid out in `order`, strides mapped back to the logical dims
  const strides = new Array<number>(dims.length).fill(0);
  let s = 1;
  for (let k = order.length - 1; k >= 0; k--) {
    const d = order[k];
    strides[d] = bcast[d] ? 0 : s;
    s *= dims[d];
  }
  const size = dims.reduce((x, y) => x * y, 1);
  return { storage: b.upload('float32', data.subarray(0, size)), dtype: 'float32', shape, strides, offset: 0 };
}

export const shapeArb = fc
  .array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 })
  .filter((s) => s.reduce((x, y) => x * y, 1) <= 100_000);
