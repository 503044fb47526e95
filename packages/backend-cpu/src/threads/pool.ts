import { type Gemm, makeGemm } from '../kernels/matmul/gemm.js';
import { SIMD_SCRATCH_BYTES, instantiateKernel, makeSimdGemm, simdScratchAt } from '../kernels/matmul/gemm-simd.js';
import type { BlasForWorkers } from '../blas/cblas.js';
import type { BlasBatchJob, BlasCall } from './blas-batch.js';
import type { WasmKernels } from '../runtime/tiers.js';
import type { RowJob, RowWork } from './row-job.js';
import { workerLoop } from './worker-loop.js';

const SLOT = 16;
/** Float64 arguments of a row job (see row-jobs.ts), shared with the workers. */
const ARGS = 16;

/** A matmul split into blocks of the output (work items of 5 int32, see worker-loop.ts). */
export interface MatmulJob {
  M: number;
  N: number;
  K: number;
  aRs: number;
  aCs: number;
  bRs: number;
  bCs: number;
  float64: boolean;
  direct: boolean;
  /** Byte offset in the heap of the work list (5 int32 per item). */
  listOffset: number;
  items: number;
  /** Byte offset of B packed whole (see prepackB), 0 for none. */
  packedB: number;
}

/**
 * Worker threads that share the CPU heap and run row blocks of a matmul, and chunks of the row and elementwise
 * WebAssembly kernels (row-jobs.ts). Every block or chunk is computed by the same kernel whichever thread takes
 * it, so results are bitwise identical whatever the thread count. The calling thread takes work too and then
 * blocks (Atomics.wait) until the workers are done: dispatch stays synchronous, as the Backend contract asks.
 *
 * Node runs the workers as worker_threads, browsers as Web Workers (in a cross-origin-isolated page, the only kind
 * with SharedArrayBuffer). Where threads are unavailable the pool never starts and the backend runs
 * single-threaded.
 */
export class KernelPool {
  private readonly control: SharedArrayBuffer;
  private readonly ctl: Int32Array;
  private readonly args = new SharedArrayBuffer(ARGS * 8);
  private readonly argv = new Float64Array(this.args);
  private workers: PoolWorker[] = [];
  ready = false;
  /** Every worker loaded the BLAS too, so `runBlas` splits batches of products between all threads. */
  blasOnWorkers = false;
  /** A worker reported an error while starting: the pool is not used. */
  private failed = false;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    readonly threads: number,
    /** The row jobs the workers were built with; a job's id is its index here. */
    private readonly jobs: readonly RowJob[],
  ) {
    // One slot per thread, then the shared next-item counter.
    this.control = new SharedArrayBuffer((threads + 1) * SLOT * 4);
    this.ctl = new Int32Array(this.control);
  }

  /**
   * Starts `threads − 1` workers (the caller is the other thread; default: the core count, at most 8); null
   * where worker threads are unavailable or one thread is asked for.
   */
  static async start(
    memory: WebAssembly.Memory,
    requested: number | undefined,
    simd: { module: WebAssembly.Module; reserve: (bytes: number) => number } | null,
    rows: RowWork | null = null,
    blas: BlasForWorkers | null = null,
  ): Promise<KernelPool | null> {
    const rowModules = rows?.modules ?? null;
    if (typeof SharedArrayBuffer === 'undefined') return null;
    const host = await workerHost(rows?.jobs ?? []);
    if (!host) return null;
    const threads = requested ?? Math.min(8, host.cores);
    if (threads <= 1) return null;
    const pool = new KernelPool(memory, threads, rows?.jobs ?? []);
    for (let slot = 1; slot < threads; slot++) {
      // Each worker packs into its own scratch in the shared heap; it runs the SIMD kernel if this thread does.
      const scratch = simd ? simdScratchAt(simd.reserve(SIMD_SCRATCH_BYTES)) : null;
      const workerData = { memory, control: pool.control, args: pool.args, slot, module: simd?.module ?? null, scratch, rowModules, blas };
      try {
        pool.workers.push(host.spawn(workerData, () => void (pool.failed = true)));
      } catch {
        await pool.stop();
        return null;
      }
    }
    try {
      await Promise.all(pool.workers.map((_, i) => pool.waitReady(i + 1)));
    } catch {
      await pool.stop();
      return null;
    }
    // A worker reports 2 when it loaded the BLAS as well (1: without it; a worker that cannot still runs our kernels).
    pool.blasOnWorkers = blas !== null && pool.workers.every((_, i) => Atomics.load(pool.ctl, (i + 1) * SLOT + 15) === 2);
    pool.ready = true;
    return pool;
  }

  private async waitReady(slot: number): Promise<void> {
    const at = slot * SLOT + 15;
    for (let tries = 0; Atomics.load(this.ctl, at) === 0; tries++) {
      if (this.failed) throw new Error(`CPU backend: matmul worker ${slot} failed to start`);
      if (tries > 500) throw new Error(`CPU backend: matmul worker ${slot} did not start within 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Runs the whole work list. Threads (this one included) take items from a shared counter, so a slow core does
   * less; which thread computes an item never changes its result.
   */
  run(job: MatmulJob, data: Float32Array | Float64Array, i32: Int32Array, gemm: Gemm): void {
    const counter = this.threads * SLOT;
    Atomics.store(this.ctl, counter, 0);
    this.dispatch((c, b) => {
      c[b + 14] = 0;
      c[b + 1] = job.M;
      c[b + 2] = job.N;
      c[b + 3] = job.K;
      c[b + 4] = job.aRs;
      c[b + 5] = job.aCs;
      c[b + 6] = job.bRs;
      c[b + 7] = job.bCs;
      c[b + 8] = job.float64 ? 1 : 0;
      c[b + 9] = job.direct ? 1 : 0;
      c[b + 10] = job.listOffset;
      c[b + 11] = counter;
      c[b + 12] = job.items;
      c[b + 13] = job.packedB;
    });
    const list = job.listOffset >>> 2; // unsigned: heap offsets pass 2 GiB
    for (let item = Atomics.add(this.ctl, counter, 1); item < job.items; item = Atomics.add(this.ctl, counter, 1)) {
      const at = list + item * 5;
      gemm(i32[at + 3], i32[at + 4], job.K, data, i32[at], job.aRs, job.aCs, data, i32[at + 1], job.bRs, job.bCs, data, i32[at + 2], job.N, false, job.direct, job.packedB);
    }
    this.waitAll('matmul');
  }

  /**
   * Runs a batch of BLAS products, items taken from a shared counter by every thread (this one with `call`). Each
   * product is one call on one thread (the caller sets the BLAS to one thread first), so which thread ran it never
   * changes its bits. Only where `blasOnWorkers`.
   */
  runBlas(job: BlasBatchJob, data: Float32Array | Float64Array, i32: Int32Array, call: BlasCall): void {
    const counter = this.threads * SLOT;
    Atomics.store(this.ctl, counter, 0);
    this.dispatch((c, b) => {
      c[b + 14] = 2;
      c[b + 1] = job.m;
      c[b + 2] = job.n;
      c[b + 3] = job.k;
      c[b + 4] = job.lda;
      c[b + 5] = job.ldb;
      c[b + 6] = (job.transA ? 1 : 0) | (job.transB ? 2 : 0);
      c[b + 8] = job.float64 ? 1 : 0;
      c[b + 10] = job.listOffset;
      c[b + 11] = counter;
      c[b + 12] = job.items;
    });
    const list = job.listOffset >>> 2;
    for (let item = Atomics.add(this.ctl, counter, 1); item < job.items; item = Atomics.add(this.ctl, counter, 1)) {
      const at = list + item * 3;
      call(job.transA, job.transB, job.m, job.n, job.k, data, i32[at], job.lda, i32[at + 1], job.ldb, i32[at + 2], job.n);
    }
    this.waitAll('BLAS');
  }

  /**
   * Runs row job `job` (one of the pool's jobs, row-jobs.ts) over `total` items in chunks of `chunk`, with `args` (at most 16). Only for
   * pools started with row modules, whose workers hold the same kernels.
   */
  runRows(job: RowJob, args: readonly number[], total: number, chunk: number, kernels: WasmKernels): void {
    const counter = this.threads * SLOT;
    const items = Math.ceil(total / chunk);
    this.argv.set(args);
    Atomics.store(this.ctl, counter, 0);
    const id = this.jobs.indexOf(job);
    if (id < 0) throw new Error('CPU backend: a row job the workers were not built with');
    this.dispatch((c, b) => {
      c[b + 14] = 1;
      c[b + 1] = id;
      c[b + 2] = total;
      c[b + 3] = chunk;
      c[b + 11] = counter;
      c[b + 12] = items;
    });
    for (let item = Atomics.add(this.ctl, counter, 1); item < items; item = Atomics.add(this.ctl, counter, 1)) {
      job(kernels, this.argv, item * chunk, Math.min(total, (item + 1) * chunk));
    }
    this.waitAll('row kernel');
  }

  /** Fills each worker's slot and wakes it. */
  private dispatch(fill: (c: Int32Array, base: number) => void): void {
    for (let s = 1; s < this.threads; s++) {
      const b = s * SLOT;
      fill(this.ctl, b);
      Atomics.store(this.ctl, b, 1);
      Atomics.notify(this.ctl, b);
    }
  }

  /** Blocks until every worker has finished its part; throws if one failed. */
  private waitAll(what: string): void {
    let failed = false;
    for (let s = 1; s < this.threads; s++) {
      const b = s * SLOT;
      // A browser's main thread may not block: it spins instead (its own share of the work is done by now).
      while (Atomics.load(this.ctl, b) === 1) if (CAN_BLOCK) Atomics.wait(this.ctl, b, 1);
      if (Atomics.load(this.ctl, b) === 3) failed = true;
      Atomics.store(this.ctl, b, 0);
    }
    if (failed) throw new Error(`CPU backend: a ${what} worker thread failed`);
  }

  async stop(): Promise<void> {
    for (let s = 1; s < this.threads; s++) {
      Atomics.store(this.ctl, s * SLOT, 4);
      Atomics.notify(this.ctl, s * SLOT);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
    this.ready = false;
  }
}

/** A running worker, Node's or a browser's, as far as the pool needs it. */
interface PoolWorker {
  terminate(): unknown;
}

/** Starts workers on this platform: Node's worker_threads, or Web Workers in a cross-origin-isolated page. */
async function workerHost(jobs: readonly RowJob[]): Promise<{ cores: number; spawn(data: object, onError: () => void): PoolWorker } | null> {
  const g = globalThis as {
    process?: { versions?: { node?: string } };
    Worker?: new (url: string) => { postMessage(d: object): void; terminate(): void; onerror: unknown };
    crossOriginIsolated?: boolean;
    navigator?: { hardwareConcurrency?: number };
  };
  try {
    if (typeof g.process?.versions?.node === 'string') {
      // Computed specifiers, so browser bundlers leave them alone.
      const [wt, osName] = ['node:worker_threads', 'node:os'];
      const { Worker } = (await import(/* @vite-ignore */ wt)) as typeof import('node:worker_threads');
      const os = (await import(/* @vite-ignore */ osName)) as typeof import('node:os');
      const source = `const { workerData } = require('node:worker_threads');\n${workerSource(jobs)}\nmain(workerData);`;
      return {
        cores: os.availableParallelism(),
        spawn(workerData, onError) {
          // execArgv: [] so the worker's script is plain CommonJS whatever flags the parent runs with.
          const w = new Worker(source, { eval: true, execArgv: [], workerData });
          w.on('error', onError); // never let a worker error crash the program
          w.unref(); // idle workers must not keep the process alive
          return w;
        },
      };
    }
    const WebWorker = g.Worker;
    if (typeof WebWorker === 'function' && g.crossOriginIsolated === true) {
      const url = URL.createObjectURL(new Blob([`${workerSource(jobs)}\nself.onmessage = (e) => main(e.data);`], { type: 'text/javascript' }));
      return {
        cores: g.navigator?.hardwareConcurrency ?? 2,
        spawn(workerData, onError) {
          const w = new WebWorker(url);
          w.onerror = onError;
          w.postMessage(workerData); // the shared memory, control block and compiled modules, all transferable by copy
          return w;
        },
      };
    }
  } catch {
    // no threads here
  }
  return null;
}

/** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
const CAN_BLOCK = (() => {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

/**
 * The worker's program: the kernels and the loop from their own source text, so every thread runs one kernel.
 * It defines `main(workerData)`; each platform's prelude calls it with the data.
 */
function workerSource(jobs: readonly RowJob[]): string {
  return [
    "'use strict';",
    // Transpilers may wrap functions in a naming helper; the worker has no such helper, so make it a no-op.
    'var __name = (f) => f;',
    `const makeGemm = ${makeGemm.toString()};`,
    `const makeSimdGemm = ${makeSimdGemm.toString()};`,
    `const instantiateKernel = ${instantiateKernel.toString()};`,
    `const workerLoop = ${workerLoop.toString()};`,
    `const rowJobs = [\n${jobs.map((job) => job.toString()).join(',\n')}\n];`,
    'function main({ memory, control, args, slot, module, scratch, rowModules, blas }) {',
    '  let gemm = makeGemm();',
    '  if (module) {',
    '    const kernel = instantiateKernel(module, memory);',
    "    if (!kernel) throw new Error('the SIMD kernel did not instantiate in a worker');",
    '    gemm = makeSimdGemm(memory, kernel, scratch, gemm);',
    '  }',
    '  let rowJob = null;',
    '  if (rowModules) {',
    '    const imports = { env: { memory, log: Math.log } };',
    '    const kernels = {};',
    '    for (const name of Object.keys(rowModules)) kernels[name] = new WebAssembly.Instance(rowModules[name], imports).exports;',
    '    const argv = new Float64Array(args);',
    '    rowJob = (id, r0, r1) => rowJobs[id](kernels, argv, r0, r1);',
    '  }',
    // Node only: the same BLAS through koffi, for batches of small products (a worker that cannot load it runs
    // without: it reports so, and the pool keeps those batches on the calling thread).
    '  let blasCall = null;',
    '  if (blas && typeof require === "function") {',
    '    try {',
    '      const lib = require(blas.koffi).load(blas.path);',
    "      const sig = (t) => `void cblas_${t}gemm(int order, int transA, int transB, int m, int n, int k, ${t === 's' ? 'float' : 'double'} alpha, void *a, int lda, void *b, int ldb, ${t === 's' ? 'float' : 'double'} beta, void *c, int ldc)`;",
    "      const [sgemm, dgemm] = [lib.func(sig('s')), lib.func(sig('d'))];",
    '      blasCall = (tA, tB, m, n, k, data, a, lda, b, ldb, c, ldc) =>',
    '        (data instanceof Float64Array ? dgemm : sgemm)(101, tA ? 112 : 111, tB ? 112 : 111, m, n, k, 1, data.subarray(a), lda, data.subarray(b), ldb, 0, data.subarray(c), ldc);',
    '    } catch {',
    '      blasCall = null;',
    '    }',
    '  }',
    '  workerLoop(memory, control, slot, gemm, rowJob, blasCall);',
    '}',
  ].join('\n');
}
