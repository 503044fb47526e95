import { type BackendStorage, type View, isFloat, promoteTypes } from '@siftjs/tensor';
import { gemmStridedBatched } from '../cublas.js';
import { type CudaDevice, type CudaStorage, addressOf } from '../device.js';
import * as F from '../ffi.js';
import { collapse, contiguousStridesOf } from '../geometry.js';
import { cast } from './cast.js';
import { copy } from './copy.js';
import { free } from './free.js';

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * cuBLAS (cublas.ts). Row-major C[M,N] = A[M,K]·B[K,N] per batch is column-major Cᵀ = Bᵀ·Aᵀ: cuBLAS gets B
 * first. An operand whose inner dim has stride 1 goes in as is (op N, ld = its row stride); one whose outer dim
 * has stride 1 (a transposed view) as op T; anything else, and batch dims that do not merge to one stride, is
 * copied contiguous first.
 *
 * float16 / bfloat16 operands of one format go to cuBLAS as they are (cublas.ts: FP32 accumulation, a half result).
 * Operands of different float dtypes (a half weight beside float32 activations) give promoteTypes' dtype, float32
 * or float64, and the other operand is cast to it first: cuBLAS's GemmEx takes A and B of one type.
 */
export function matmul(dev: CudaDevice, a: View, b: View): BackendStorage {
  if (!isFloat(a.dtype) || !isFloat(b.dtype)) throw new TypeError(`CUDA matmul: float dtypes only, got ${a.dtype} and ${b.dtype}`);
  const dtype = promoteTypes(a.dtype, b.dtype);
  if (a.dtype !== dtype || b.dtype !== dtype) {
    const [ac, bc] = [a, b].map((v) => (v.dtype === dtype ? null : (cast(dev, v, dtype) as CudaStorage)));
    const view = (v: View, c: CudaStorage | null): View => (c ? { storage: c, dtype, shape: v.shape, strides: contiguousStridesOf(v.shape), offset: 0 } : v);
    try {
      return matmul(dev, view(a, ac), view(b, bc));
    } finally {
      for (const c of [ac, bc]) if (c) free(dev, c);
    }
  }
  const r = a.shape.length;
  const [M, Kd] = [a.shape[r - 2], a.shape[r - 1]];
  const N = b.shape[r - 1];
  const batchShape = a.shape.slice(0, r - 2);
  const batch = sizeOf(batchShape);
  const out = dev.make(a.dtype, batch * M * N);
  if (M === 0 || N === 0 || batch === 0) return out;
  if (Kd === 0) {
    dev.zero(out.ptr, out.block.bytes);
    return out;
  }
  const temps: CudaStorage[] = [];
  const prep = (v: View, rows: number, cols: number) => {
    const rs = v.strides[r - 2];
    const cs = v.strides[r - 1];
    const bw = collapse(batchShape, [v.strides.slice(0, r - 2)]);
    const batchStride = bw.shape.length === 1 ? bw.strides[0][0] : null;
    if (batchStride !== null) {
      if (cs === 1 && rs >= Math.max(1, cols)) return { p: addressOf(v), op: F.CUBLAS_OP_N, ld: rs, stride: batchStride };
      if (rs === 1 && cs >= Math.max(1, rows)) return { p: addressOf(v), op: F.CUBLAS_OP_T, ld: cs, stride: batchStride };
    }
    const c = copy(dev, v) as CudaStorage;
    temps.push(c);
    return { p: c.ptr, op: F.CUBLAS_OP_N, ld: cols, stride: rows * cols };
  };
  const A = prep(a, M, Kd);
  const B = prep(b, Kd, N);
  gemmStridedBatched(dev, a.dtype, N, M, Kd, B, A, out.ptr, N, M * N, batch);
  for (const t of temps) free(dev, t);
  return out;
}
