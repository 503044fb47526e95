/**
 * What every op needs to run a kernel, shared by the op files (ops/*.ts): the device and its limits, the
 * command encoder, the buffer pool, compiled pipelines and the index-error word. A WebGpuBackend owns one
 * and its kernels are functions of it.
 */
import { type BackendStorage, type DType, DTypeError, type View, fmtShape } from '@siftjs/tensor';
import type { GpuContext, KernelLimits } from './adapter.js';
import { BufferPool, type BufferPoolOptions, StagingPool } from './buffers.js';
import { Encoder, WebGpuError } from './encoder.js';
import { IndexErrors } from './index-errors.js';
import { type Params, type Scalar, floorPow2, grid, scalarOf } from './wgsl/common.js';

/** One allocation: a pooled GPU buffer holding `size` elements of `dtype` (every element 32 bits on the GPU). */
export class GpuStorage {
  freed = false;
  constructor(
    readonly buffer: GPUBuffer,
    readonly dtype: DType,
    readonly size: number,
    /** Bytes asked for (size × 4, at least 4). */
    readonly bytes: number,
  ) {}
}

export class NotImplementedError extends WebGpuError {
  constructor(op: string) {
    super(`not implemented on webgpu yet: ${op}`);
    this.name = 'NotImplementedError';
  }
}

export const shapeOf = (v: View): string => fmtShape(v.shape);

export class GpuRuntime {
  readonly device: GPUDevice;
  readonly limits: KernelLimits;
  readonly encoder: Encoder;
  readonly pool: BufferPool;
  readonly staging: StagingPool;
  readonly indexErrors: IndexErrors;
  /** Invocations per workgroup of the 1D kernels. */
  readonly wg: number;
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(context: GpuContext, poolOpts: BufferPoolOptions = {}) {
    this.device = context.device;
    this.limits = context.limits;
    this.encoder = new Encoder(this.device);
    this.pool = new BufferPool(this.device, { ...poolOpts, beforeDestroy: () => this.encoder.flush() });
    this.staging = new StagingPool(this.device);
    this.wg = Math.min(256, floorPow2(this.limits.maxComputeInvocationsPerWorkgroup), floorPow2(this.limits.maxComputeWorkgroupSizeX));
    this.indexErrors = new IndexErrors(this.device);
  }

  /** Pipelines compiled so far. */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** Runs an op's encoding inside error scopes labelled with the op (after checking the device is alive). */
  op<T>(label: string, fn: () => T): T {
    this.encoder.checkAlive(label);
    return this.encoder.scoped(label, fn);
  }

  private pipeline(source: string, label: string): GPUComputePipeline {
    let p = this.pipelines.get(source);
    if (!p) {
      const module = this.device.createShaderModule({ code: source, label });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
      this.pipelines.set(source, p);
    }
    return p;
  }

  launch(label: string, source: string, params: Params, buffers: GPUBuffer[], groups: [number, number, number]): void {
    if (buffers.length > this.limits.maxStorageBuffersPerShaderStage) {
      throw new WebGpuError(`webgpu ${label}: a kernel binding ${buffers.length} storage buffers, over the device's ${this.limits.maxStorageBuffersPerShaderStage}`);
    }
    this.encoder.dispatch(label, this.pipeline(source, label), params.toArray(), buffers, groups);
  }

  make(dtype: DType, size: number, op: string): GpuStorage {
    if (dtype === 'float64') throw new DTypeError(`webgpu ${op}: float64 is not supported on WebGPU (WGSL has no f64); use float32`);
    const bytes = Math.max(4, size * 4);
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

  scalar(dtype: DType, op: string): Scalar {
    if (dtype === 'float64') throw new DTypeError(`webgpu ${op}: float64 is not supported on WebGPU (WGSL has no f64); use float32`);
    return scalarOf(dtype);
  }

  /** The grid of a 1D kernel with one invocation per item. */
  groups(invocations: number): [number, number, number] {
    return grid(Math.ceil(invocations / this.wg), this.limits.maxComputeWorkgroupsPerDimension);
  }

  /** Whether a kernel binding this many storage buffers is over the device's limit. */
  tooMany(bindings: number): boolean {
    return bindings > this.limits.maxStorageBuffersPerShaderStage;
  }
}
