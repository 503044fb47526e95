import { type BackendStorage, type View, isFloat } from '@siftjs/tensor';
import { gemmStridedBatched } from '../cublas.js';
import { type CudaDevice, type CudaStorage, addressOf } from '../device.js';
import * as F from '../ffi.js';
import { collapse } from '../geometry.js';
import { copy } from './copy.js';
import { free } from './free.js';

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * cuBLAS (cublas.ts). Row-major C[M,N] = A[M,K]·B[K,N] per batch is column-major Cᵀ = Bᵀ·Aᵀ: cuBLAS gets B
 * first. An operand whose inner dim has stride 1 goes in as is (op N, ld = its row stride); one whose outer dim
 * has stride 1 (a transposed view) as op T; anything else, and batch dims that do not merge to one stride, is
 * copied contiguous first.
 */
export function matmul(dev: CudaDevice, a: View, b: View): BackendStorage {
  if (!isFloat(a.dtype)) throw new TypeError(`CUDA matmul: float dtypes only, got ${a.dtype}`);
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
