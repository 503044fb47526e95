import type { Gemm } from '../kernels/matmul/gemm.js';
import type { BlasCall } from './blas-batch.js';

/**
 * The body of a matmul worker thread. Like `makeGemm` it is self-contained — workers are built from its source
 * text — so it may refer only to its arguments.
 *
 * Control block of one worker (Int32Array slots, see pool.ts): [0] state (0 idle, 1 job, 2 done, 3 failed,
 * 4 stop), [1] M, [2] N, [3] K, [4] aRs, [5] aCs, [6] bRs, [7] bCs, [8] float64?, [9] direct?, [10] byte offset of
 * the work list in the heap, [11] index of the shared next-item counter, [12] item count, [13] byte offset of B
 * packed whole (0: none), [14] job kind (0 matmul, 1 row job, 2 BLAS batch), [15] ready (1; 2 with the BLAS
 * loaded). A work item is 5 int32s: element offsets of A, B and C for one block of the output, its rows and its
 * columns. A row job (row-jobs.ts) uses [1] its id, [2] its item count, [3] the chunk size, [11] the counter and
 * [12] the chunk count; its arguments are in the pool's shared argument block, which `rowJob` reads. A BLAS batch
 * (pool.ts, `runBlas`) uses [1] m, [2] n, [3] k, [4] lda, [5] ldb, [6] transposes (1 A, 2 B), [8] float64?, [10],
 * [11], [12] as a matmul, items of 3 int32s (element offsets of A, B and C).
 */
export function workerLoop(
  memory: WebAssembly.Memory,
  control: SharedArrayBuffer,
  slot: number,
  gemm: Gemm,
  rowJob: ((id: number, r0: number, r1: number) => void) | null,
  blas: BlasCall | null = null,
): void {
  const ctl = new Int32Array(control);
  const base = slot * 16;
  let buffer: ArrayBuffer | null = null;
  let f32 = new Float32Array(0);
  let f64 = new Float64Array(0);
  let i32 = new Int32Array(0);
  Atomics.store(ctl, base + 15, blas ? 2 : 1);
  Atomics.notify(ctl, base + 15);
  for (;;) {
    let state = Atomics.load(ctl, base);
    while (state !== 1 && state !== 4) {
      Atomics.wait(ctl, base, state);
      state = Atomics.load(ctl, base);
    }
    if (state === 4) return;
    try {
      if (ctl[base + 14] === 1) {
        if (!rowJob) throw new Error('a row job for a worker without row kernels');
        const [id, total, chunk, counter, chunks] = [ctl[base + 1], ctl[base + 2], ctl[base + 3], ctl[base + 11], ctl[base + 12]];
        for (let item = Atomics.add(ctl, counter, 1); item < chunks; item = Atomics.add(ctl, counter, 1)) {
          rowJob(id, item * chunk, Math.min(total, (item + 1) * chunk));
        }
        Atomics.store(ctl, base, 2);
        Atomics.notify(ctl, base);
        continue;
      }
      if (buffer !== memory.buffer) {
        // The heap may have grown since the last job: take fresh views.
        buffer = memory.buffer as ArrayBuffer;
        f32 = new Float32Array(buffer);
        f64 = new Float64Array(buffer);
        i32 = new Int32Array(buffer);
      }
      const data = ctl[base + 8] ? f64 : f32;
      if (ctl[base + 14] === 2) {
        if (!blas) throw new Error('a BLAS batch for a worker without the BLAS');
        const [m, n, k, lda, ldb, trans] = [ctl[base + 1], ctl[base + 2], ctl[base + 3], ctl[base + 4], ctl[base + 5], ctl[base + 6]];
        const [list, counter, items] = [ctl[base + 10] >>> 2, ctl[base + 11], ctl[base + 12]];
        for (let item = Atomics.add(ctl, counter, 1); item < items; item = Atomics.add(ctl, counter, 1)) {
          const at = list + item * 3;
          blas((trans & 1) !== 0, (trans & 2) !== 0, m, n, k, data, i32[at], lda, i32[at + 1], ldb, i32[at + 2], n);
        }
        Atomics.store(ctl, base, 2);
        Atomics.notify(ctl, base);
        continue;
      }
      const [n, k, aRs, aCs, bRs, bCs] = [ctl[base + 2], ctl[base + 3], ctl[base + 4], ctl[base + 5], ctl[base + 6], ctl[base + 7]];
      const direct = ctl[base + 9] === 1;
      const list = ctl[base + 10] >>> 2; // unsigned: heap offsets pass 2 GiB
      const counter = ctl[base + 11];
      const items = ctl[base + 12];
      const packedB = ctl[base + 13];
      for (let item = Atomics.add(ctl, counter, 1); item < items; item = Atomics.add(ctl, counter, 1)) {
        const at = list + item * 5;
        gemm(i32[at + 3], i32[at + 4], k, data, i32[at], aRs, aCs, data, i32[at + 1], bRs, bCs, data, i32[at + 2], n, false, direct, packedB);
      }
      Atomics.store(ctl, base, 2);
    } catch {
      Atomics.store(ctl, base, 3);
    }
    Atomics.notify(ctl, base);
  }
}
