import {
  type Backend,
  type BackendInfo,
  type BackendMemoryStats,
  type BackendStorage,
  type DType,
  type KernelMethods,
  type KernelTable,
  type TypedArray,
  delegateKernels,
} from '@siftjs/tensor';
import { adamw } from './kernels/adamw.js';
import { adamwIncrement } from './kernels/adamwIncrement.js';
import { argReduce } from './kernels/argReduce.js';
import { binary } from './kernels/binary.js';
import { cast } from './kernels/cast.js';
import { copy } from './kernels/copy.js';
import { copyInto } from './kernels/copyInto.js';
import { fill } from './kernels/fill.js';
import { gatherFlat } from './kernels/gatherFlat.js';
import { gatherRows } from './kernels/gatherRows.js';
import { layerNorm } from './kernels/layerNorm.js';
import { layerNormBackward } from './kernels/layerNormBackward.js';
import { matmul } from './kernels/matmul.js';
import { random } from './kernels/random.js';
import { reduce } from './kernels/reduce.js';
import { rmsNorm } from './kernels/rmsNorm.js';
import { rmsNormBackward } from './kernels/rmsNormBackward.js';
import { sampledMatmul } from './kernels/sampledMatmul.js';
import { scatterAddRows } from './kernels/scatterAddRows.js';
import { scatterFlat } from './kernels/scatterFlat.js';
import { softmax } from './kernels/softmax.js';
import { softmaxBackward } from './kernels/softmaxBackward.js';
import { topkAbs } from './kernels/topkAbs.js';
import { unary } from './kernels/unary.js';
import { where } from './kernels/where.js';
import { type CpuBackendOptions, CpuContext } from './runtime/context.js';
import type { CpuHeap } from './runtime/heap.js';
import { ROW_JOBS } from './threads/row-jobs.js';

export type { CpuBackendOptions };

/**
 * The CPU backend's kernels, in the contract's order: each contract method is the function of its name in
 * kernels/<method>.ts, called on the backend's context (CpuContext: storage, threads and the dispatch tiers).
 */
const kernels = {
  // primitives (required): layout, elementwise, reductions, linear algebra, indexing, random
  fill, copy, copyInto, cast, unary, binary, where, reduce, argReduce, matmul, sampledMatmul,
  gatherRows, scatterAddRows, gatherFlat, scatterFlat, random,
  // fused kernels (optional): rows, selection, optimizer steps
  softmax, softmaxBackward, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward, topkAbs, adamw, adamwIncrement,
} satisfies KernelTable<CpuContext>;

/**
 * The CPU backend: a delegation table and nothing else. Its kernel methods are the table above (delegateKernels
 * forwards each to its kernel); its storage and identity forward to runtime/context.ts; threads and the dispatch
 * tiers are the plumbing in runtime/ and threads/.
 */
export interface CpuBackend extends KernelMethods<typeof kernels> {}
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  private readonly cpu: CpuContext;

  constructor(opts: CpuBackendOptions = {}) {
    this.cpu = new CpuContext(opts, ROW_JOBS);
  }

  /** The heap every storage of this backend lives in. */
  get heap(): CpuHeap {
    return this.cpu.heap;
  }

  // ---------------------------------------------------------------- identity and storage (runtime/context.ts)

  info(): BackendInfo {
    return this.cpu.info(this.name);
  }

  /** Resolves when the worker threads are running (setBackend awaits it). */
  init(): Promise<void> {
    return this.cpu.init();
  }

  /** Stops the worker threads (the backend keeps working on one thread). */
  dispose(): Promise<void> {
    return this.cpu.dispose();
  }

  alloc(dtype: DType, size: number): BackendStorage {
    return this.cpu.alloc(dtype, size);
  }

  upload(dtype: DType, data: TypedArray): BackendStorage {
    return this.cpu.upload(dtype, data);
  }

  read(storage: BackendStorage, dtype: DType, size: number): Promise<TypedArray> {
    return Promise.resolve(this.cpu.readSync(storage, dtype, size));
  }

  readSync(storage: BackendStorage, dtype: DType, size: number): TypedArray {
    return this.cpu.readSync(storage, dtype, size);
  }

  free(storage: BackendStorage): void {
    this.cpu.free(storage);
  }

  memoryStats(): BackendMemoryStats {
    return this.cpu.memoryStats();
  }

  resetPeak(): void {
    this.cpu.heap.resetPeak();
  }

  // The kernel methods: the table above, each forwarding to its kernel on this backend's state.
  static {
    delegateKernels(CpuBackend, (b) => b.cpu, kernels);
  }
}
