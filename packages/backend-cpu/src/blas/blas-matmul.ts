import type { Cblas } from './cblas.js';

/**
 * How one matrix operand reads in BLAS terms: `trans` (stored transposed, i.e. column-major) and its leading
 * dimension, or null where its strides are not a BLAS layout (a broadcast or doubly strided view). `rows × cols` is
 * the operand as the product uses it; rs / cs its element strides.
 */
export function blasLayout(rows: number, cols: number, rs: number, cs: number): { trans: boolean; ld: number } | null {
  // A dimension of extent 1 has no meaningful stride: pick the one that makes the other a unit stride.
  if ((cs === 1 || cols === 1) && (rows === 1 || rs >= cols)) return { trans: false, ld: rows === 1 ? Math.max(cols, 1) : rs };
  if ((rs === 1 || rows === 1) && (cols === 1 || cs >= rows)) return { trans: true, ld: cols === 1 ? Math.max(rows, 1) : cs };
  return null;
}

/**
 * out[i] = A[i]·B[i] for each batch i through the BLAS, where both operands have a BLAS layout; returns false
 * (nothing written) otherwise, and the caller's own kernel runs. `starts` holds each batch's element offsets of A
 * and B within `a` and `b` ([a0, b0, a1, b1, …]); batch i's output starts at i·m·n of `out`, rows of n.
 */
export function blasBatchedMatmul(
  blas: Cblas,
  a: Float32Array | Float64Array,
  aRs: number,
  aCs: number,
  b: Float32Array | Float64Array,
  bRs: number,
  bCs: number,
  out: Float32Array | Float64Array,
  m: number,
  n: number,
  k: number,
  starts: number[],
): boolean {
  const la = blasLayout(m, k, aRs, aCs);
  const lb = blasLayout(k, n, bRs, bCs);
  if (!la || !lb || m === 0 || n === 0 || k === 0) return false;
  for (let i = 0; i < starts.length / 2; i++) {
    blas.gemm(la.trans, lb.trans, m, n, k, a.subarray(starts[2 * i]), la.ld, b.subarray(starts[2 * i + 1]), lb.ld, out.subarray(i * m * n), n);
  }
  return true;
}
