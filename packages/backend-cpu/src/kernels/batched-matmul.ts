import type { TypedArray, View } from '@siftjs/tensor';
import { collapse, forEachRow } from '../strided.js';
import { type FloatArray, gemm } from './matmul.js';

/** out[..., M, N] = a[..., M, K] · b[..., K, N] over identical (already broadcast) batch dims. */
export function batchedMatmul(a: TypedArray, av: View, b: TypedArray, bv: View, out: TypedArray): void {
  const r = av.shape.length;
  const [m, k] = av.shape.slice(r - 2);
  const n = bv.shape[r - 1];
  const batchShape = av.shape.slice(0, r - 2);
  const [aRs, aCs] = av.strides.slice(r - 2);
  const [bRs, bCs] = bv.strides.slice(r - 2);
  const walk = collapse(batchShape, [av.strides.slice(0, r - 2), bv.strides.slice(0, r - 2)]);
  const last = walk.shape.length - 1;
  const [sa, sb] = [walk.strides[0][last], walk.strides[1][last]];
  let c = 0;
  forEachRow(walk, [av.offset, bv.offset], (off, count) => {
    for (let j = 0; j < count; j++) {
      gemm(m, n, k, a as FloatArray, off[0] + j * sa, aRs, aCs, b as FloatArray, off[1] + j * sb, bRs, bCs, out as FloatArray, c, n, false);
      c += m * n;
    }
  });
}
