// TEMPORARY naive kernel (replaced by the blocked kernel).
export type FloatArray = Float32Array | Float64Array;
export function gemm(
  M: number, N: number, K: number,
  A: FloatArray, aOff: number, aRowStride: number, aColStride: number,
  B: FloatArray, bOff: number, bRowStride: number, bColStride: number,
  C: FloatArray, cOff: number, ldc: number,
  accumulate: boolean,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[aOff + i * aRowStride + k * aColStride] * B[bOff + k * bRowStride + j * bColStride];
      const c = cOff + i * ldc + j;
      C[c] = accumulate ? C[c] + s : s;
    }
  }
}
