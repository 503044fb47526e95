/**
 * The Backend contract on one GPUDevice, as a table: each contract method is the function of the same name in
 * kernels/<method>.ts, run on the plumbing the backend owns (runtime.ts: device, encoder, buffer pool, pipelines).
 */
import { type Backend, type BackendInfo, type BackendStorage, type KernelMethods, type KernelTable, delegateKernels } from '@siftjs/tensor';
import { acquireDevice } from './device/acquire.js';
import type { GpuContext } from './device/context.js';
import type { KernelLimits } from './device/limits.js';
import type { Encoder } from './dispatch/encoder.js';
import { adamw } from './kernels/adamw.js';
import { adamwIncrement } from './kernels/adamwIncrement.js';
import { alloc } from './kernels/alloc.js';
import { argReduce } from './kernels/argReduce.js';
import { binary } from './kernels/binary.js';
import { cast } from './kernels/cast.js';
import { copy } from './kernels/copy.js';
import { copyInto } from './kernels/copyInto.js';
import { fill } from './kernels/fill.js';
import { free } from './kernels/free.js';
import { gatherFlat } from './kernels/gatherFlat.js';
import { gatherRows } from './kernels/gatherRows.js';
import { info } from './kernels/info.js';
import { layerNorm } from './kernels/layerNorm.js';
import { layerNormBackward } from './kernels/layerNormBackward.js';
import { matmul } from './kernels/matmul.js';
import { type MatmulPlan, type MatmulTile, type MatmulTuning, type StridedOperand, matmulPlan } from './kernels/matmul-plan.js';
import { memoryStats } from './kernels/memoryStats.js';
import { random, randomBits } from './kernels/random.js';
import { read } from './kernels/read.js';
import { reduce } from './kernels/reduce.js';
import { resetPeak } from './kernels/resetPeak.js';
import { rmsNorm } from './kernels/rmsNorm.js';
import { rmsNormBackward } from './kernels/rmsNormBackward.js';
import { scatterAddRows } from './kernels/scatterAddRows.js';
import { scatterFlat } from './kernels/scatterFlat.js';
import { softmax } from './kernels/softmax.js';
import { softmaxBackward } from './kernels/softmaxBackward.js';
import { topkAbs } from './kernels/topkAbs.js';
import { unary } from './kernels/unary.js';
import { upload } from './kernels/upload.js';
import { where } from './kernels/where.js';
import { GpuRuntime, type WebGpuBackendOptions, type WebGpuBackendSettings } from './runtime.js';

/** The contract's methods in its order, each the function of its name in kernels/<method>.ts, run on the runtime. */
const kernels = {
  // storage
  alloc, upload, read, free, memoryStats, resetPeak,
  // primitives (required): layout, elementwise, reductions, linear algebra, indexing, random
  fill, copy, copyInto, cast, unary, binary, where, reduce, argReduce, matmul,
  gatherRows, scatterAddRows, gatherFlat, scatterFlat, random,
  // fused kernels (optional): rows, selection, optimizer steps
  softmax, softmaxBackward, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward, topkAbs, adamw, adamwIncrement,
} satisfies KernelTable<GpuRuntime>;

/** The Backend kernels as WGSL compute shaders on one GPUDevice: the table above (delegateKernels), and info. */
export interface WebGpuBackend extends KernelMethods<typeof kernels> {}
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  private readonly rt: GpuRuntime;

  constructor(context: GpuContext, settings: WebGpuBackendSettings = {}) {
    this.rt = new GpuRuntime(context, settings);
  }

  /** A backend on its own device (the registry's 'webgpu' shares one process-wide device instead). */
  static async create(opts: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    return new WebGpuBackend(await acquireDevice(opts), opts);
  }

  // ---------------------------------------------------------------- beyond the contract: device and plumbing

  get context(): GpuContext {
    return this.rt.context;
  }
  get limits(): KernelLimits {
    return this.rt.limits;
  }
  get encoder(): Encoder {
    return this.rt.encoder;
  }
  /** The scalar matmul kernel's tile. */
  get tile(): MatmulTile {
    return this.rt.tile;
  }
  /** The thresholds matmul's plan uses (kernels/matmul-plan.ts). */
  get matmulTuning(): MatmulTuning {
    return this.rt.matmulTuning;
  }
  /** Submits recorded kernels now. */
  flush(): void {
    this.rt.flush();
  }
  /** Waits for all submitted work; throws the first recorded GPU error. */
  sync(): Promise<void> {
    return this.rt.sync();
  }
  /** Frees pooled buffers and destroys the device. */
  destroy(): void {
    this.rt.destroy();
  }
  /** Destroys pooled (free) buffers. */
  trim(): void {
    this.rt.trim();
  }
  /** The kernel, tile and K split `matmul(a, b)` uses (kernels/matmul-plan.ts). */
  planMatmul(a: StridedOperand, b: StridedOperand): MatmulPlan {
    return matmulPlan(a, b, this.rt.limits, this.rt.matmulTuning);
  }
  /**
   * The raw Philox words (uint32 bit patterns, in an int32 storage) of the stream `random` draws from: element i
   * is word i mod 4 of block floor(i / 4), as @siftjs/tensor's philox.fillUint32.
   */
  randomBits(size: number, seed: readonly [number, number], offset: number): BackendStorage {
    return randomBits(this.rt, size, seed, offset);
  }

  // ---------------------------------------------------------------- the contract: the table above, and info

  info(): BackendInfo {
    return info(this.rt, this.name);
  }

  // The kernel methods: the table above, each forwarding to its kernel on this backend's state.
  static {
    delegateKernels(WebGpuBackend, (b) => b.rt, kernels);
  }
}
