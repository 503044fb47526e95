import type { TypedArray, View } from '@siftjs/tensor';
import { collapse, forEachRow } from '../support/strided.js';
import { blasBatchedMatmul, blasBatchedOnThreads } from '../../blas/blas-matmul.js';
import type { Cblas } from '../../blas/cblas.js';
import type { KernelPool } from '../../threads/pool.js';
import { type FloatArray, type Gemm, isSmallProduct } from './gemm.js';

/** Products smaller than this many multiply-adds stay on the calling thread: waking workers costs more. */
const PARALLEL_MIN_MACS = 1 << 20;

export interface MatmulContext {
  /** This thread's kernel (WebAssembly SIMD for float32 where available). */
  gemm: Gemm;
  pool: KernelPool | null;
  /** The platform's BLAS where one is in use (Node, found or named by SIFT_BLAS), its threads set to the pool's. */
  blas: Cblas | null;
  /** Scratch int32 list in the shared heap (byte offset), for the workers' work items. */
  allocList(ints: number): { offset: number; free(): void };
  i32(): Int32Array;
  /**
   * All of a float32 B (K×N at element offset bOff of the heap) packed once by the WebAssembly kernel, for a
   * product split into row blocks; null where that kernel is not in use. Returns its byte offset and a release.
   */
  prepackB?(K: number, N: number, bAt: number, bRs: number, bCs: number): { offset: number; free(): void } | null;
}

/**
 * out[..., M, N] = a[..., M, K] · b[..., K, N] over identical (already broadcast) batch dims. Large products are
 * split into row blocks over the thread pool; each block runs the same kernel with the same `direct` choice, so
 * the result does not depend on how many threads ran it.
 */
/** A batch of products at least this many multiply-adds each (256³) goes to the BLAS one call each on its threads. */
const BLAS_MIN_MACS_PER_BATCH = 1 << 24;
/** Smaller products, many to a batch, go to it one call each on one thread from this size (64³) up. */
const BLAS_SMALL_MIN_MACS = 1 << 18;

export function batchedMatmul(a: TypedArray, av: View, b: TypedArray, bv: View, out: TypedArray, ctx: MatmulContext): void {
  const r = av.shape.length;
  let [m, k] = av.shape.slice(r - 2);
  const n = bv.shape[r - 1];
  const [aRs, aCs] = av.strides.slice(r - 2);
  const [bRs, bCs] = bv.strides.slice(r - 2);
  let starts = matrixOffsets(av, bv);
  let batches = starts.length / 2;
  if (batches > 1 && foldable(starts, m * aRs)) {
    // One B for every batch (a Linear layer's weight) and A's matrices one after another: a single product with
    // batches·m rows, which packs B once instead of once per batch and gives the kernel taller blocks.
    m *= batches;
    starts = starts.slice(0, 2);
    batches = 1;
  }
  // Many small products (attention's per-head [128, 64]·[64, 128]) go to the BLAS one call each with its own threads
  // off: a call split over threads paid their start-up each time (q·kᵀ over 8×4 heads: 1.0 ms on two threads), where
  // one thread runs the 32 products in 0.6 ms — our kernel over both threads took 0.7 to 1.4. Where the workers hold
  // the BLAS too, the calls are split between the threads (0.35 ms). Tiny products stay on our kernel.
  const small = batches > 1 && m * n * k < BLAS_MIN_MACS_PER_BATCH;
  const blas = !small || m * n * k >= BLAS_SMALL_MIN_MACS ? ctx.blas : null;
  const floats = a instanceof Float32Array || a instanceof Float64Array;
  if (blas && small) {
    blas.setThreads(1);
    const pool = ctx.pool;
    if (floats && pool?.ready && pool.blasOnWorkers) {
      const heap = () => ctx.i32().buffer as ArrayBuffer;
      if (blasBatchedOnThreads(blas, pool, ctx.allocList, heap, a as FloatArray, aRs, aCs, b as FloatArray, bRs, bCs, out as FloatArray, m, n, k, starts)) return;
    }
  }
  if (blas && floats && blasBatchedMatmul(blas, a as FloatArray, aRs, aCs, b as FloatArray, bRs, bCs, out as FloatArray, m, n, k, starts)) return;
  const direct = isSmallProduct(m, n, k);
  const pool = ctx.pool;
  if (!pool?.ready || batches * m * n * k < PARALLEL_MIN_MACS || m === 0 || n === 0) {
    for (let i = 0; i < batches; i++) {
      ctx.gemm(m, n, k, a as FloatArray, starts[2 * i], aRs, aCs, b as FloatArray, starts[2 * i + 1], bRs, bCs, out as FloatArray, i * m * n, n, false, direct);
    }
    return;
  }
  // Blocks of the output: whole matrices when there are enough of them. One float32 product on the WebAssembly
  // kernel: B packed once here, then row blocks of up to 128 rows (one A block), taken by the threads as they come
  // free, so a thread slowed by other jobs on the machine holds up little. Otherwise column blocks, which split the
  // packing of B between threads without repeating it, else row blocks (multiples of 4, the micro-tile height).
  const target = 2 * pool.threads;
  let rowsPer = m;
  let colsPer = n;
  let packed: { offset: number; free(): void } | null = null;
  if (batches === 1 && !direct && a.BYTES_PER_ELEMENT === 4 && ctx.prepackB && m >= 64) {
    packed = ctx.prepackB(k, n, b.byteOffset + starts[1] * 4, bRs, bCs);
    if (packed) rowsPer = Math.min(128, Math.max(16, Math.ceil(m / (4 * pool.threads) / 4) * 4));
  }
  if (batches < target && !packed) {
    const split = Math.ceil(target / batches);
    if (n >= 128 * split) colsPer = Math.ceil(n / split / 8) * 8;
    else rowsPer = Math.min(m, Math.max(4, Math.ceil(m / split / 4) * 4));
  }
  const items = batches * Math.ceil(m / rowsPer) * Math.ceil(n / colsPer);
  const list = ctx.allocList(items * 5);
  try {
    const i32 = ctx.i32();
    let at = list.offset >>> 2; // unsigned: heap offsets pass 2 GiB
    const outBase = out.byteOffset / out.BYTES_PER_ELEMENT;
    const aBase = a.byteOffset / a.BYTES_PER_ELEMENT;
    const bBase = b.byteOffset / b.BYTES_PER_ELEMENT;
    for (let i = 0; i < batches; i++) {
      for (let row = 0; row < m; row += rowsPer) {
        for (let col = 0; col < n; col += colsPer) {
          i32[at++] = aBase + starts[2 * i] + row * aRs;
          i32[at++] = bBase + starts[2 * i + 1] + col * bCs;
          i32[at++] = outBase + i * m * n + row * n + col;
          i32[at++] = Math.min(rowsPer, m - row);
          i32[at++] = Math.min(colsPer, n - col);
        }
      }
    }
    // Views over the heap as it is now: allocations above may have grown it (shared memory then has a new buffer).
    const whole = a.BYTES_PER_ELEMENT === 8 ? new Float64Array(i32.buffer) : new Float32Array(i32.buffer);
    const job = { M: m, N: n, K: k, aRs, aCs, bRs, bCs, float64: a.BYTES_PER_ELEMENT === 8, direct, listOffset: list.offset, items };
    pool.run({ ...job, packedB: packed?.offset ?? 0 }, whole, i32, ctx.gemm);
  } finally {
    list.free();
    packed?.free();
  }
}

/** Every batch reads the same B, and batch i's A starts i·aBatch elements after batch 0's. */
function foldable(starts: number[], aBatch: number): boolean {
  for (let i = 1; i < starts.length / 2; i++) {
    if (starts[2 * i + 1] !== starts[1] || starts[2 * i] !== starts[0] + i * aBatch) return false;
  }
  return true;
}

/** Element offsets of A's and B's matrix for each batch index, interleaved [a0, b0, a1, b1, …]. */
function matrixOffsets(av: View, bv: View): number[] {
  const r = av.shape.length;
  const walk = collapse(av.shape.slice(0, r - 2), [av.strides.slice(0, r - 2), bv.strides.slice(0, r - 2)]);
  const last = walk.shape.length - 1;
  const [sa, sb] = [walk.strides[0][last], walk.strides[1][last]];
  const out: number[] = [];
  forEachRow(walk, [av.offset, bv.offset], (off, count) => {
    for (let j = 0; j < count; j++) out.push(off[0] + j * sa, off[1] + j * sb);
  });
  return out;
}
