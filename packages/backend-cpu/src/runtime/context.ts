import { type BackendInfo, type BackendMemoryStats, type BackendStorage, type DType, type TypedArray, type View, bytesPerElement, sizeOf } from '@siftjs/tensor';
import { chunkItems } from '../threads/chunks.js';
import type { RowJob } from '../threads/row-job.js';
import { CpuHeap } from './heap.js';
import { type MatmulOptions, MatmulRunner } from './matmul-runner.js';
import { CpuStorage } from './storage.js';
import { type SimdTiers, type WasmKernels, loadTiers, rowModules } from './tiers.js';

export type CpuBackendOptions = MatmulOptions;

/**
 * What every CPU kernel (kernels/<method>.ts) works with: the heap its storages live in, the dispatch tiers loaded
 * here (WebAssembly SIMD where the engine has it and the heap is shared, TypeScript otherwise), the matmul runner
 * and the worker threads. It also holds the contract's storage methods. backend.ts only forwards to it and to the
 * kernels.
 */
export class CpuContext {
  readonly heap = new CpuHeap();
  readonly matmuls: MatmulRunner;
  readonly simd: SimdTiers;

  /** `jobs`: every row job (threads/row-jobs.ts), passed in so that the kernels, which use this, are not imported here. */
  constructor(opts: CpuBackendOptions, jobs: readonly RowJob[]) {
    this.simd = loadTiers(this.heap, opts.simd !== false);
    this.matmuls = new MatmulRunner(this.heap, opts, this.simd.all ? { modules: rowModules(), jobs } : null);
  }

  /** Resolves when the worker threads are running (setBackend awaits it). */
  init(): Promise<void> {
    return this.matmuls.init();
  }

  /** Stops the worker threads (the backend keeps working on one thread). */
  dispose(): Promise<void> {
    return this.matmuls.dispose();
  }

  info(name: string): BackendInfo {
    const { threads, kernels, fma, blas } = this.matmuls;
    const { elementwise, rows, norm } = this.simd;
    const wasmMatmul = kernels === 'wasm-simd' ? `WebAssembly SIMD float32 matmul${fma ? ' (relaxed-SIMD FMA)' : ''}` : 'TypeScript matmul';
    return {
      name,
      description: `${blas ? `${blas.name} matmul (${blas.path}; ${wasmMatmul} for strided views)` : wasmMatmul}, ${threads} thread${threads > 1 ? 's' : ''}; ${elementwise ? 'WebAssembly SIMD float32 add/sub/mul/div, outer-axis sums, AdamW, ' : ''}${rows ? 'exp/tanh/erf/gelu/sigmoid and softmax, ' : ''}${norm ? 'layer/RMS norm, ' : ''}other kernels TypeScript`,
      kernels,
      fma,
      blas: blas ? { name: blas.name, path: blas.path } : null,
      threads,
      sharedMemory: this.heap.shared,
    };
  }

  // ---------------------------------------------------------------- storages

  /** A fresh storage of `size` elements, contents unspecified. */
  make(dtype: DType, size: number): CpuStorage {
    const bytes = Math.max(1, size * bytesPerElement(dtype));
    return new CpuStorage(this.heap.alloc(bytes), bytes, dtype, size);
  }

  /** The typed array over a storage (taken after allocations: the heap may grow). */
  array(s: BackendStorage, dtype?: DType): TypedArray {
    const st = s as CpuStorage;
    if (st.freed) throw new Error('CPU backend: storage used after it was freed');
    return this.heap.view(dtype ?? st.dtype, st.offset, st.size);
  }

  /** A contiguous view's elements (fused kernels require contiguous input). */
  contiguous(v: View): TypedArray {
    const a = this.array(v.storage);
    return a.subarray(v.offset, v.offset + sizeOf(v.shape));
  }

  alloc(dtype: DType, size: number): BackendStorage {
    const s = this.make(dtype, size);
    this.array(s).fill(0);
    return s;
  }

  upload(dtype: DType, data: TypedArray): BackendStorage {
    const s = this.make(dtype, data.length);
    this.array(s).set(data);
    return s;
  }

  readSync(storage: BackendStorage, dtype: DType, size: number): TypedArray {
    return this.array(storage, dtype).slice(0, size);
  }

  free(storage: BackendStorage): void {
    const s = storage as CpuStorage;
    if (s.freed) throw new Error('CPU backend: storage freed twice');
    s.freed = true;
    this.heap.free(s.offset, s.bytes);
  }

  memoryStats(): BackendMemoryStats {
    const h = this.heap;
    return { bytesInUse: h.bytesInUse, peakBytes: h.peakBytes, bytesReserved: h.bytesReserved, allocations: h.allocations };
  }

  // ---------------------------------------------------------------- threads

  /**
   * Row job `job` (threads/row-jobs.ts) over `total` items (rows of `cols`, or elements with cols = 1), split over
   * the worker threads when there is more than one chunk of it. Each item's result depends on its inputs alone:
   * the same bits however it is split.
   */
  rowJob(wasm: WasmKernels, job: RowJob, args: number[], total: number, cols: number): void {
    const chunk = chunkItems(cols);
    const pool = this.matmuls.workers;
    if (pool && total > chunk) return pool.runRows(job, args, total, chunk, wasm);
    // Chunk by chunk here too: what a job sums per chunk must not depend on whether threads ran it.
    const a = Float64Array.from(args);
    for (let r0 = 0; r0 < total; r0 += chunk) job(wasm, a, r0, Math.min(total, r0 + chunk));
  }
}
