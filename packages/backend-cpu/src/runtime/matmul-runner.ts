import { BackendError, type TypedArray, type View } from '@siftjs/tensor';
import { type Cblas, blasFromEnv, loadCblas } from '../blas/cblas.js';
import { type MatmulContext, batchedMatmul } from '../kernels/matmul/batched.js';
import { makeGemm } from '../kernels/matmul/gemm.js';
import {
  type SimdKernels,
  SIMD_SCRATCH_BYTES,
  instantiateKernel,
  makeSimdGemm,
  prepackB,
  prepackedBytes,
  simdScratchAt,
} from '../kernels/matmul/gemm-simd.js';
import { KernelPool } from '../threads/pool.js';
import type { RowWork } from '../threads/row-job.js';
import type { CpuHeap } from './heap.js';
import { relaxedSimd } from './relaxed-simd.js';
import { wasmModule } from './wasm-modules.js';

export interface MatmulOptions {
  /** Threads, the calling one included (default: SIFT_THREADS, else the core count, at most 8). */
  threads?: number;
  /** false: the TypeScript kernel even where WebAssembly SIMD is available. */
  simd?: boolean;
  /**
   * false: the plain SIMD micro-kernel (mul + add) even where relaxed SIMD's fused multiply-add is available
   * (default: SIFT_WASM_FMA, else on). FMA rounds once per multiply-add, so products differ in the last bits from
   * the unfused kernel's; within one process every product uses the same kernel on every thread.
   */
  fma?: boolean;
  /**
   * The platform's BLAS for float32/float64 matmul (Node only): false for none, a path for that library, true or
   * unset to find OpenBLAS / Accelerate (default: SIFT_BLAS, else found). Its products differ in the last bits from
   * the WebAssembly kernel's; with either, results do not depend on the thread count.
   */
  blas?: boolean | string;
}

/**
 * The matmul plumbing (kernels/matmul.ts runs every product through `run`) and the owner of the worker threads
 * every kernel shares. Everything the CPU backend's matmul needs: the kernel (WebAssembly SIMD for float32 where the engine has it and
 * the heap is shared, TypeScript otherwise) and the worker pool. Workers start in the background; until they are
 * up, products run on the calling thread, with the same results.
 */
export class MatmulRunner {
  readonly kernels: 'wasm-simd' | 'typescript';
  /** Whether the SIMD micro-kernel fuses its multiply-adds (relaxed SIMD). */
  readonly fma: boolean;
  private pool: KernelPool | null = null;
  /** The BLAS once loaded (null: none, or not yet started — products run on our kernels meanwhile). */
  private cblas: Cblas | null = null;
  private readonly starting: Promise<void>;
  /** Whether the start (BLAS found or not, workers up or not) has settled. */
  private started = false;
  /** Whether a large product before that was already reported (once per backend). */
  private toldNotStarted = false;
  private readonly context: MatmulContext;

  /** `rows`: the row and elementwise kernels' modules and the row jobs, for workers to run row jobs too (threads/row-jobs.ts). */
  constructor(heap: CpuHeap, opts: MatmulOptions = {}, rows: RowWork | null = null) {
    const simd = opts.simd === false ? null : loadSimd(heap, opts.fma !== false && relaxedSimd());
    this.kernels = simd ? 'wasm-simd' : 'typescript';
    this.fma = simd?.fma ?? false;
    const gemm = simd
      ? makeSimdGemm(heap.memory, simd.kernel, simdScratchAt(heap.reserve(SIMD_SCRATCH_BYTES)), makeGemm())
      : makeGemm();
    const reserve = (bytes: number) => heap.reserve(bytes);
    // Read now: a bad SIFT_THREADS is an error of the constructor, not of a promise nobody awaits.
    const threads = opts.threads ?? threadsFromEnv();
    const wanted = opts.blas === false ? null : typeof opts.blas === 'string' ? opts.blas : blasFromEnv();
    const blas = loadCblas(wanted);
    // The workers start once the BLAS is found, so that they can load it too (batches of small products).
    const pool = heap.shared
      ? blas
          .catch(() => null)
          .then((cblas) =>
            KernelPool.start(heap.memory, threads, simd ? { module: simd.module, reserve } : null, rows, cblas?.forWorkers ?? null),
          )
          .then(
            (p) => void (this.pool = p),
            () => void (this.pool = null),
          )
      : Promise.resolve();
    // A BLAS that was named and fails to load is an error at start (setBackend rejects), never a quiet fallback.
    this.starting = Promise.all([pool, blas]).then(([, cblas]) => void (this.cblas = cblas));
    const settle = () => void (this.started = true);
    this.starting.then(settle, settle);
    const runner = this;
    this.context = {
      gemm,
      get pool() {
        return runner.pool;
      },
      get blas() {
        const blas = runner.cblas;
        blas?.setThreads(runner.threads);
        return blas;
      },
      allocList: (ints) => {
        const offset = heap.alloc(ints * 4);
        return { offset, free: () => heap.free(offset, ints * 4) };
      },
      i32: () => new Int32Array(heap.memory.buffer as ArrayBuffer),
      prepackB: simd
        ? (K, N, bAt, bRs, bCs) => {
            // Only worth it when workers share the packed panels; they all run the SIMD kernel (see pool.ts).
            if (!runner.pool?.ready) return null;
            const bytes = prepackedBytes(K, N);
            const offset = heap.alloc(bytes);
            prepackB(simd.kernel, K, N, bAt, bRs, bCs, offset);
            return { offset, free: () => heap.free(offset, bytes) };
          }
        : undefined,
    };
  }

  /** The worker pool once it is running (null before, or where threads are unavailable). */
  get workers(): KernelPool | null {
    return this.pool?.ready ? this.pool : null;
  }

  /** The BLAS in use, or null. */
  get blas(): Cblas | null {
    return this.cblas;
  }

  get threads(): number {
    return this.pool?.ready ? this.pool.threads : 1;
  }

  init(): Promise<void> {
    return this.starting;
  }

  async dispose(): Promise<void> {
    await this.starting.catch(() => undefined); // a named BLAS that failed to load was reported by init()
    await this.pool?.stop();
    this.pool = null;
  }

  run(a: TypedArray, av: View, b: TypedArray, bv: View, out: TypedArray): void {
    if (!this.started && !this.toldNotStarted && productMacs(av, bv) >= NOT_STARTED_NOTICE_MACS) this.tellNotStarted();
    batchedMatmul(a, av, b, bv, out, this.context);
  }

  /**
   * A program that never yields to the event loop (a synchronous script: build, forward, backward, step) would run
   * every product on one thread without the BLAS, at a fraction of the speed, and nothing would say so: say it once.
   */
  private tellNotStarted(): void {
    this.toldNotStarted = true;
    const line =
      "siftjs cpu: a large product ran before the backend finished starting (its BLAS and worker threads load in the background, and this program has not yielded to the event loop), so it ran on one thread without the BLAS; `await setBackend('cpu')` or `await getBackend().init()` first runs at full speed\n";
    if (typeof process !== 'undefined' && process.stderr?.write) process.stderr.write(line);
    else console.warn(line.trimEnd());
  }
}

/** Products from this many multiply-adds (256³) up are worth the notice: smaller ones lose little on one thread. */
const NOT_STARTED_NOTICE_MACS = 1 << 24;

/** Multiply-adds of a batched product [..., M, K]·[..., K, N]. */
function productMacs(av: View, bv: View): number {
  const r = av.shape.length;
  let macs = av.shape[r - 1] * bv.shape[r - 1];
  for (let d = 0; d < r - 1; d++) macs *= av.shape[d];
  return macs;
}

/** SIFT_THREADS when set; otherwise undefined (the pool then uses the core count). */
function threadsFromEnv(): number | undefined {
  const env = typeof process !== 'undefined' ? process.env?.SIFT_THREADS : undefined;
  if (env === undefined || env === '') return undefined;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new BackendError(`SIFT_THREADS must be a positive integer, got '${env}'`);
  return n;
}

/**
 * The SIMD micro-kernel over this heap's memory (the fused one when `fma` and it compiles), or null where SIMD or
 * shared memory is missing.
 */
function loadSimd(heap: CpuHeap, fma: boolean): { module: WebAssembly.Module; kernel: SimdKernels; fma: boolean } | null {
  if (!heap.shared) return null;
  for (const fused of fma ? [true, false] : [false]) {
    const module = wasmModule(fused ? 'gemm-f32-fma' : 'gemm-f32');
    const kernel = module && instantiateKernel(module, heap.memory);
    if (module && kernel) return { module, kernel, fma: fused };
  }
  return null;
}
