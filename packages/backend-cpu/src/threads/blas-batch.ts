/**
 * A batch of products through the BLAS, one call per item (3 int32 in the heap: element offsets of A, B and C), each
 * call on its thread alone: op(A) is m×k, op(B) k×n, C m×n with rows of n.
 */
export interface BlasBatchJob {
  m: number;
  n: number;
  k: number;
  lda: number;
  ldb: number;
  transA: boolean;
  transB: boolean;
  float64: boolean;
  listOffset: number;
  items: number;
}

/** One BLAS call of a batch: C = op(A)·op(B) at element offsets of `data` (worker-loop.ts gives the workers theirs). */
export type BlasCall = (transA: boolean, transB: boolean, m: number, n: number, k: number, data: Float32Array | Float64Array, a: number, lda: number, b: number, ldb: number, c: number, ldc: number) => void;
