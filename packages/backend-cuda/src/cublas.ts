import type { DType } from '@siftjs/tensor';
import * as F from './ffi.js';

/** cuBLAS: the handle (on the device's stream) and the one call matmul makes. */

export function createCublasHandle(cb: F.CublasApi, stream: unknown, tf32: boolean): unknown {
  const handle: [unknown] = [null];
  F.checkCublas('cublasCreate_v2', cb.cublasCreate_v2(handle));
  F.checkCublas('cublasSetStream_v2', cb.cublasSetStream_v2(handle[0], stream));
  if (tf32) F.checkCublas('cublasSetMathMode', cb.cublasSetMathMode(handle[0], F.CUBLAS_TF32_TENSOR_OP_MATH));
  return handle[0];
}

/** What a GEMM needs of the device (device.ts's CudaDevice is one; named here so this file does not import it back). */
export interface CublasContext {
  libs: { cublas: F.CublasApi };
  /** The handle createCublasHandle made. */
  cublas: unknown;
  opts: { tf32?: boolean };
}

/** A column-major GEMM operand: address, op (N or T), leading dimension, batch stride (elements). */
export interface GemmOperand {
  p: bigint;
  op: number;
  ld: number;
  stride: number;
}

/** The cudaDataType of a dtype cuBLAS multiplies. */
const DATA_TYPE: Partial<Record<DType, number>> = { float32: F.CUDA_R_32F, float64: F.CUDA_R_64F, float16: F.CUDA_R_16F, bfloat16: F.CUDA_R_16BF };

/**
 * Column-major C[m, n] = op(A)[m, k]·op(B)[k, n] for `batch` strided batches, alpha 1, beta 0: A, B and C in
 * `dtype`. float32: FP32 or TF32 compute per the device's option; float64: FP64; float16 and bfloat16: the inputs
 * and C half, products and sums in FP32 (CUBLAS_COMPUTE_32F, float alpha and beta), C rounded once — cuBLAS's
 * GemmEx configuration for half inputs with a float accumulator (bfloat16 needs compute capability 8.0 or later).
 */
export function gemmStridedBatched(dev: CublasContext, dtype: DType, m: number, n: number, k: number, A: GemmOperand, B: GemmOperand, c: bigint, ldc: number, strideC: number, batch: number): void {
  const type = DATA_TYPE[dtype];
  if (type === undefined) throw new TypeError(`CUDA matmul: no cuBLAS type for ${dtype}`);
  const f64 = dtype === 'float64';
  const alpha = f64 ? new Float64Array([1]) : new Float32Array([1]);
  const beta = f64 ? new Float64Array([0]) : new Float32Array([0]);
  const compute = f64 ? F.CUBLAS_COMPUTE_64F : dtype === 'float32' && dev.opts.tf32 ? F.CUBLAS_COMPUTE_32F_FAST_TF32 : F.CUBLAS_COMPUTE_32F;
  F.checkCublas(
    'cublasGemmStridedBatchedEx',
    dev.libs.cublas.cublasGemmStridedBatchedEx(dev.cublas, A.op, B.op, m, n, k, alpha, A.p, type, A.ld, A.stride, B.p, type, B.ld, B.stride, beta, c, type, ldc, strideC, batch, compute, F.CUBLAS_GEMM_DEFAULT),
  );
}
