import type { ElementwiseKernels, RowsKernels } from '../kernels/elementwise-simd.js';
import type { NormKernels } from '../kernels/norm-simd.js';

/**
 * Jobs of the WebAssembly row and elementwise kernels split over the thread pool. A job is `total` items (rows,
 * or elements for the elementwise kernels) cut into chunks whose size depends on the job alone, never on the
 * thread count; every item's result depends only on its own inputs, so the output is bitwise the same whichever
 * thread computes which chunk, and the same as one call over all items. The one job that sums across items — the
 * norms' weight and bias gradients — sums each chunk into a partial of its own, and the partials are added in
 * chunk order afterwards: the same order whatever the thread count.
 */
export const ROW_JOB = { softmax: 1, softmaxBackward: 2, unary: 3, normForward: 4, adamw: 5, normBackward: 6 } as const;

/** The kernel instances one thread calls (each thread has its own instances over the shared heap). */
export interface WasmKernels {
  rows: RowsKernels;
  norm: NormKernels;
  elementwise: ElementwiseKernels;
}

/** Items per chunk: about this many float32 elements, so a chunk is worth a trip through the shared counter. */
const CHUNK_ELEMENTS = 1 << 15;

/** The chunk (in items) of a job over rows of `cols` elements (cols = 1: an elementwise job). */
export function chunkItems(cols: number): number {
  return Math.max(1, Math.floor(CHUNK_ELEMENTS / Math.max(1, cols)));
}

/**
 * Runs items [r0, r1) of job `id` with arguments `a` (heap byte offsets and scalars, listed per case). Like
 * workerLoop it is self-contained: workers are built from its source text.
 */
export function runRowJob(k: WasmKernels, id: number, a: Float64Array, r0: number, r1: number): void {
  const n = r1 - r0;
  switch (id) {
    case 1: {
      // softmax rows: x, out, cols, log
      const o = r0 * a[2] * 4;
      k.rows.softmax(a[0] + o, a[1] + o, n, a[2], a[3]);
      return;
    }
    case 2: {
      // softmax backward rows: y, dy, dx, cols, log
      const o = r0 * a[3] * 4;
      k.rows.softmaxBackward(a[0] + o, a[1] + o, a[2] + o, n, a[3], a[4]);
      return;
    }
    case 3:
      // unary elements: op, x, out
      k.rows.unary(a[0], a[1] + r0 * 4, a[2] + r0 * 4, n);
      return;
    case 4: {
      // layer / RMS norm rows: x, w, b, y, mean (0: none), rstd, cols, eps, flags
      const o = r0 * a[6] * 4;
      k.norm.normForward(a[0] + o, a[1], a[2], a[3] + o, a[4] && a[4] + r0 * 4, a[5] + r0 * 4, n, a[6], a[7], a[8]);
      return;
    }
    case 5: {
      // AdamW elements: p, g, m, v, then β1, 1−β1, β2, 1−β2, decay, step size, √bias correction 2, eps
      const o = r0 * 4;
      k.elementwise.adamw(a[0] + o, a[1] + o, a[2] + o, a[3] + o, n, a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]);
      return;
    }
    case 6: {
      // layer / RMS norm backward rows: dy, x, w, mean (0: none), rstd, dx (0: not wanted), partials, cols, flags, chunk. Chunk c
      // adds its dw (then db) sums into partials + c·2·cols·8 bytes, zeroed by the caller.
      const cols = a[7];
      const o = r0 * cols * 4;
      const part = a[6] + Math.floor(r0 / a[9]) * 2 * cols * 8;
      k.norm.normBackward(a[0] + o, a[1] + o, a[2], a[3] && a[3] + r0 * 4, a[4] + r0 * 4, a[5] && a[5] + o, part, part + cols * 8, n, cols, a[8]);
      return;
    }
    default:
      throw new Error(`CPU backend: unknown row job ${id}`);
  }
}
