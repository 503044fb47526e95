/** What the indexing kernels' tests share: ids as (strided) views, their random lists, and the sums they are held to. */
import type { View } from '@siftjs/tensor';
import fc from 'fast-check';
import type { WebGpuBackend } from '../src/index.js';

/** Ids as a view: contiguous, or every other element of a longer buffer (a strided index view), at an offset. */
export function idsView(b: WebGpuBackend, ids: number[], strided: boolean): View {
  const off = 1;
  const step = strided ? 2 : 1;
  const data = new Int32Array(off + ids.length * step).fill(-7);
  ids.forEach((id, i) => (data[off + i * step] = id));
  return { storage: b.upload('int32', data), dtype: 'int32', shape: [ids.length], strides: [step], offset: off };
}

/** The CPU's scatter-add: a float32 accumulator, sources added in position order (each sum rounded to f32). */
export function sequentialF32(init: Float32Array, ids: number[], src: ArrayLike<number>, d: number): Float32Array {
  const out = Float32Array.from(init);
  ids.forEach((id, i) => {
    for (let j = 0; j < d; j++) out[id * d + j] = Math.fround(out[id * d + j] + src[i * d + j]);
  });
  return out;
}

/** Float64 sums, and the magnitude each is measured against. */
export function float64Sums(rows: number, ids: number[], src: ArrayLike<number>, d: number): { sum: Float64Array; mag: Float64Array } {
  const sum = new Float64Array(rows * d);
  const mag = new Float64Array(rows * d);
  ids.forEach((id, i) => {
    for (let j = 0; j < d; j++) {
      sum[id * d + j] += src[i * d + j];
      mag[id * d + j] += Math.abs(src[i * d + j]);
    }
  });
  return { sum, mag };
}

/** Short id lists, and lists longer than one sort block (513+ pairs: the sort's global stages run). */
export const idsArb = (maxId: number, maxLen: number) => {
  const id = fc.integer({ min: 0, max: maxId - 1 });
  return fc.oneof(fc.array(id, { maxLength: 40 }), fc.array(id, { minLength: 513, maxLength: maxLen }));
};
