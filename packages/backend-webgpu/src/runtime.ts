/**
 * What every kernel needs to run, shared by the kernel files (kernels/*.ts): the device and its limits, the
 * command encoder, the buffer pool and staging buffers, compiled pipelines, the index-error word, and the
 * matmul plan's settings. A WebGpuBackend owns one and each contract method is a function of it.
 */
import { type BackendStorage, type DType, DTypeError, type View, fmtShape, isHalf } from '@siftjs/tensor';
import type { AcquireOptions } from './device/acquire.js';
import type { GpuContext } from './device/context.js';
import type { KernelLimits } from './device/limits.js';
import { Encoder } from './dispatch/encoder.js';
import { IndexErrors } from './dispatch/index-errors.js';
import { PipelineCache } from './dispatch/pipelines.js';
import { WebGpuError } from './errors.js';
import { DEFAULT_MATMUL_TUNING, type MatmulTile, type MatmulTuning, chooseTile } from './kernels/matmul-plan.js';
import { BufferPool, type BufferPoolOptions } from './memory/buffer-pool.js';
import { StagingPool } from './memory/readback.js';
import { GpuStorage } from './memory/storage.js';
import { type Elem, type Params, type Scalar, elemOf, floorPow2, grid, scalarOf, wordsFor } from './wgsl/common.js';

/** Options of a backend on an acquired device: the buffer pool's, and the matmul plan's thresholds. */
export interface WebGpuBackendSettings extends BufferPoolOptions {
  matmul?: Partial<MatmulTuning>;
}

export type WebGpuBackendOptions = AcquireOptions & WebGpuBackendSettings;

export const shapeOf = (v: View): string => fmtShape(v.shape);

export class GpuRuntime {
  readonly device: GPUDevice;
  readonly limits: KernelLimits;
  readonly encoder: Encoder;
  readonly pool: BufferPool;
  readonly staging: StagingPool;
  readonly indexErrors: IndexErrors;
  readonly pipelines: PipelineCache;
  /** Invocations per workgroup of the 1D kernels. */
  readonly wg: number;
  /** The scalar matmul kernel's tile. */
  readonly tile: MatmulTile;
  /** The thresholds matmul's plan uses (kernels/matmul-plan.ts). */
  readonly matmulTuning: MatmulTuning;

  constructor(
    readonly context: GpuContext,
    settings: WebGpuBackendSettings = {},
  ) {
    const { matmul, ...poolOpts } = settings;
    this.device = context.device;
    this.limits = context.limits;
    this.encoder = new Encoder(this.device);
    this.pool = new BufferPool(this.device, { ...poolOpts, beforeDestroy: () => this.encoder.flush() });
    this.staging = new StagingPool(this.device);
    this.pipelines = new PipelineCache(this.device);
    this.wg = Math.min(256, floorPow2(this.limits.maxComputeInvocationsPerWorkgroup), floorPow2(this.limits.maxComputeWorkgroupSizeX));
    this.indexErrors = new IndexErrors(this.device);
    this.tile = chooseTile(this.limits);
    this.matmulTuning = { ...DEFAULT_MATMUL_TUNING, ...matmul };
  }

  // ---------------------------------------------------------------- lifetime

  /** Submits recorded kernels now. */
  flush(): void {
    this.encoder.flush();
  }

  /** Waits for all submitted work; throws the first recorded GPU error. */
  async sync(): Promise<void> {
    this.encoder.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.encoder.check();
    await this.indexErrors.check(this.encoder);
  }

  /** Destroys pooled (free) buffers. */
  trim(): void {
    this.pool.trim();
    this.staging.trim();
  }

  /** Frees pooled buffers and destroys the device. */
  destroy(): void {
    this.encoder.flush();
    this.trim();
    this.indexErrors.destroy();
    this.device.destroy();
  }

  // ---------------------------------------------------------------- encoding

  /** Runs an op's encoding inside error scopes labelled with the op (after checking the device is alive). */
  op<T>(label: string, fn: () => T): T {
    this.encoder.checkAlive(label);
    return this.encoder.scoped(label, fn);
  }

  launch(label: string, source: string, params: Params, buffers: GPUBuffer[], groups: [number, number, number]): void {
    if (buffers.length > this.limits.maxStorageBuffersPerShaderStage) {
      throw new WebGpuError(`webgpu ${label}: a kernel binding ${buffers.length} storage buffers, over the device's ${this.limits.maxStorageBuffersPerShaderStage}`);
    }
    this.encoder.dispatch(label, this.pipelines.get(source, label), params.toArray(), buffers, groups);
  }

  /** The grid of a 1D kernel with one invocation per item. */
  groups(invocations: number): [number, number, number] {
    return grid(Math.ceil(invocations / this.wg), this.limits.maxComputeWorkgroupsPerDimension);
  }

  /** Whether a kernel binding this many storage buffers is over the device's limit. */
  tooMany(bindings: number): boolean {
    return bindings > this.limits.maxStorageBuffersPerShaderStage;
  }

  // ---------------------------------------------------------------- storages

  /**
   * A fresh storage (contents undefined). float32, int32 and bool take 4 bytes an element; float16 and bfloat16 2,
   * packed two to a 32-bit word, so an odd count takes 2 bytes of padding (counted: a storage's bytes are whole
   * words, at least one).
   */
  make(dtype: DType, size: number, op: string): GpuStorage {
    if (dtype === 'float64') throw new DTypeError(`webgpu ${op}: float64 is not supported on WebGPU (WGSL has no f64); use float32`);
    const bytes = Math.max(4, wordsFor(dtype, size) * 4);
    if (bytes > this.limits.maxStorageBufferBindingSize) {
      throw new WebGpuError(
        `webgpu ${op}: ${size} elements (${bytes} bytes) exceed the device's largest storage binding (${this.limits.maxStorageBufferBindingSize} bytes)`,
      );
    }
    return new GpuStorage(this.pool.acquire(bytes, op), dtype, size, bytes);
  }

  /** A zero-filled storage. */
  zeros(dtype: DType, size: number, op: string): GpuStorage {
    const s = this.make(dtype, size, op);
    this.encoder.clear(s.buffer, s.bytes);
    return s;
  }

  free(storage: BackendStorage): void {
    const s = storage as GpuStorage;
    if (s.freed) throw new WebGpuError('webgpu: storage freed twice');
    s.freed = true;
    this.pool.release(s.buffer);
  }

  buf(s: BackendStorage, op: string): GPUBuffer {
    const st = s as GpuStorage;
    if (!(st instanceof GpuStorage)) throw new WebGpuError(`webgpu ${op}: a storage from another backend`);
    if (st.freed) throw new WebGpuError(`webgpu ${op}: storage used after it was freed`);
    return st.buffer;
  }

  /** The storage element type of `dtype` for a kernel that takes every dtype WebGPU stores (halves packed). */
  elem(dtype: DType, op: string): Elem {
    if (dtype === 'float64') throw new DTypeError(`webgpu ${op}: float64 is not supported on WebGPU (WGSL has no f64); use float32`);
    return elemOf(dtype, this.context.shaderF16);
  }

  /** The element type of `dtype` for a kernel that takes 32-bit elements only (float32, int32, bool). */
  scalar(dtype: DType, op: string): Scalar {
    if (dtype === 'float64') throw new DTypeError(`webgpu ${op}: float64 is not supported on WebGPU (WGSL has no f64); use float32`);
    if (isHalf(dtype)) throw new DTypeError(`webgpu ${op}: ${dtype} is not supported by this kernel; cast to float32 first`);
    return scalarOf(dtype);
  }
}
