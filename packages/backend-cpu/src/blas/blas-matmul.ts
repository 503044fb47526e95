import type { BlasCall } from '../threads/blas-batch.js';
import type { KernelPool } from '../threads/pool.js';
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

/**
 * blasBatchedMatmul with the batches split between the pool's threads (each call on its thread alone: the caller has
 * set the BLAS to one thread), for batches of small products; false (nothing written) where the layouts are not a
 * BLAS's. `alloc` gives heap scratch for the work list (byte offset); views are taken after it, since it may grow
 * the heap.
 */
export function blasBatchedOnThreads(
  blas: Cblas,
  pool: KernelPool,
  alloc: (ints: number) => { offset: number; free(): void },
  heap: () => ArrayBuffer,
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
  const size = a.BYTES_PER_ELEMENT;
  const [aBase, bBase, outBase] = [a.byteOffset / size, b.byteOffset / size, out.byteOffset / size];
  const items = starts.length / 2;
  const list = alloc(items * 3);
  try {
    const buffer = heap();
    const i32 = new Int32Array(buffer);
    for (let i = 0, at = list.offset >>> 2; i < items; i++, at += 3) {
      i32[at] = aBase + starts[2 * i];
      i32[at + 1] = bBase + starts[2 * i + 1];
      i32[at + 2] = outBase + i * m * n;
    }
    const data = size === 8 ? new Float64Array(buffer) : new Float32Array(buffer);
    const call: BlasCall = (tA, tB, mm, nn, kk, d, ao, lda, bo, ldb, co, ldc) => blas.gemm(tA, tB, mm, nn, kk, d.subarray(ao), lda, d.subarray(bo), ldb, d.subarray(co), ldc);
    pool.runBlas({ m, n, k, lda: la.ld, ldb: lb.ld, transA: la.trans, transB: lb.trans, float64: size === 8, listOffset: list.offset, items }, data, i32, call);
  } finally {
    list.free();
  }
  return true;
}
