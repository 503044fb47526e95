/**
 * The Backend contract on one GPUDevice: device lifetime, storage (allocate, upload, read, free) and the kernel
 * list, each kernel a function in ops/ by subject (elementwise, reduce, linalg, rows, indexing, topk, random,
 * optim) over the runtime they share (runtime.ts).
 */
import {
  type AdamWHyper,
  type AdamWIncrementArgs,
  type Backend,
  type BackendInfo,
  type BackendMemoryStats,
  type BackendStorage,
  type BinaryOp,
  type DType,
  DTypeError,
  type NormBackward,
  type NormGradients,
  type NormForward,
  type NormStats,
  type ReduceOp,
  type TypedArray,
  type UnaryOp,
  type View,
} from '@siftjs/tensor';
import { type AcquireOptions, type GpuContext, type KernelLimits, acquireDevice, describeAdapter } from './adapter.js';
import type { BufferPoolOptions, PoolStats } from './buffers.js';
import { type Encoder, WebGpuError } from './encoder.js';
import { DEFAULT_MATMUL_TUNING, type MatmulPlan, type MatmulTile, type MatmulTuning, type StridedOperand, chooseTile, matmulPlan } from './matmul-plan.js';
import * as elementwise from './ops/elementwise.js';
import * as indexing from './ops/indexing.js';
import * as linalg from './ops/linalg.js';
import * as optim from './ops/optim.js';
import * as random from './ops/random.js';
import * as reduce from './ops/reduce.js';
import * as rows from './ops/rows.js';
import * as topk from './ops/topk.js';
import { GpuRuntime } from './runtime.js';

export { GpuStorage, NotImplementedError } from './runtime.js';

export interface WebGpuMemoryStats extends BackendMemoryStats {
  /** Freed bytes kept for reuse (part of bytesReserved). */
  pooledBytes: number;
  /** GPU buffers created, and allocations served from the pool. */
  buffersCreated: number;
  buffersReused: number;
}

/** Options of a backend on an acquired device: the buffer pool's, and the matmul plan's thresholds. */
export interface WebGpuBackendSettings extends BufferPoolOptions {
  matmul?: Partial<MatmulTuning>;
}

export type WebGpuBackendOptions = AcquireOptions & WebGpuBackendSettings;

/** The Backend kernels as WGSL compute shaders on one GPUDevice. */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly limits: KernelLimits;
  readonly encoder: Encoder;
  /** The scalar matmul kernel's tile. */
  readonly tile: MatmulTile;
  /** The thresholds matmul's plan uses (matmul-plan.ts). */
  readonly matmulTuning: MatmulTuning;
  private readonly rt: GpuRuntime;

  constructor(
    readonly context: GpuContext,
    opts: WebGpuBackendSettings = {},
  ) {
    const { matmul, ...poolOpts } = opts;
    this.rt = new GpuRuntime(context, poolOpts);
    this.limits = this.rt.limits;
    this.encoder = this.rt.encoder;
    this.tile = chooseTile(this.limits);
    this.matmulTuning = { ...DEFAULT_MATMUL_TUNING, ...matmul };
  }

  /** A backend on its own device (the registry's 'webgpu' shares one process-wide device instead). */
  static async create(opts: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    return new WebGpuBackend(await acquireDevice(opts), opts);
  }

  info(): BackendInfo {
    const a = this.context.adapter;
    return {
      name: this.name,
      description: `WGSL compute shaders on ${describeAdapter(a)}`,
      adapter: a.description || a.device,
      /** A CPU emulation (SwiftShader, llvmpipe): slower than the CPU backend. */
      software: a.software,
      path: a.path,
      featureLevel: a.featureLevel,
      limits: this.limits,
      matmulTile: this.tile,
      pipelines: this.rt.pipelineCount,
      submits: this.encoder.submits,
    };
  }

  /** Submits recorded kernels now. */
  flush(): void {
    this.encoder.flush();
  }

  /** Waits for all submitted work; throws the first recorded GPU error. */
  async sync(): Promise<void> {
    this.encoder.flush();
    await this.rt.device.queue.onSubmittedWorkDone();
    await this.encoder.check();
    await this.rt.indexErrors.check(this.encoder);
  }

  /** Frees pooled buffers and destroys the device. */
  destroy(): void {
    this.encoder.flush();
    this.rt.pool.trim();
    this.rt.staging.trim();
    this.rt.indexErrors.destroy();
    this.rt.device.destroy();
  }

  // ---------------------------------------------------------------- storage

  alloc(dtype: DType, size: number): BackendStorage {
    return this.rt.op(`alloc ${dtype} ×${size}`, () => this.rt.zeros(dtype, size, 'alloc'));
  }

  upload(dtype: DType, data: TypedArray): BackendStorage {
    const rt = this.rt;
    return rt.op(`upload ${dtype} ×${data.length}`, () => {
      const s = rt.make(dtype, data.length, 'upload');
      if (data.length > 0) {
        const words = dtype === 'bool' ? Uint32Array.from(data as Uint8Array) : data;
        // writeBuffer runs on the queue before anything still unsubmitted: submit first, since a pooled buffer
        // may still be read by recorded kernels.
        rt.encoder.flush();
        rt.device.queue.writeBuffer(s.buffer, 0, words.buffer, words.byteOffset, s.bytes);
      }
      return s;
    });
  }

  async read(storage: BackendStorage, dtype: DType, size: number): Promise<TypedArray> {
    const rt = this.rt;
    rt.encoder.checkAlive('read');
    const buffer = rt.buf(storage, 'read');
    if (dtype === 'float64') throw new DTypeError('webgpu read: float64 is not supported on WebGPU');
    const bytes = size * 4;
    let raw: ArrayBuffer;
    if (size === 0) {
      raw = new ArrayBuffer(0);
    } else {
      const staging = rt.staging.acquire(bytes);
      rt.encoder.copy(buffer, 0, staging, 0, bytes);
      rt.encoder.flush();
      try {
        raw = await rt.staging.read(staging, bytes);
      } catch (e) {
        await rt.encoder.check();
        throw new WebGpuError(`webgpu read of ${size} ${dtype}: ${(e as Error).message}`);
      }
    }
    await rt.encoder.check();
    await rt.indexErrors.check(rt.encoder);
    switch (dtype) {
      case 'float32':
        return new Float32Array(raw);
      case 'int32':
        return new Int32Array(raw);
      case 'bool':
        return Uint8Array.from(new Uint32Array(raw));
    }
  }

  free(storage: BackendStorage): void {
    this.rt.free(storage);
  }

  memoryStats(): WebGpuMemoryStats {
    const s: PoolStats = this.rt.pool.stats();
    return {
      bytesInUse: s.bytesInUse,
      peakBytes: s.peakBytes,
      bytesReserved: s.bytesReserved,
      allocations: s.allocations,
      pooledBytes: s.pooledBytes,
      buffersCreated: s.created,
      buffersReused: s.reused,
    };
  }

  resetPeak(): void {
    this.rt.pool.resetPeak();
  }

  /** Destroys pooled (free) buffers. */
  trim(): void {
    this.rt.pool.trim();
    this.rt.staging.trim();
  }

  // ---------------------------------------------------------------- elementwise (ops/elementwise.ts)

  fill(dtype: DType, size: number, value: number): BackendStorage {
    return elementwise.fill(this.rt, dtype, size, value);
  }

  copy(x: View): BackendStorage {
    return elementwise.copy(this.rt, x);
  }

  copyInto(dst: View, src: View): void {
    elementwise.copyInto(this.rt, dst, src);
  }

  cast(x: View, dtype: DType): BackendStorage {
    return elementwise.cast(this.rt, x, dtype);
  }

  unary(op: UnaryOp, x: View): BackendStorage {
    return elementwise.unary(this.rt, op, x);
  }

  binary(op: BinaryOp, a: View, b: View): BackendStorage {
    return elementwise.binary(this.rt, op, a, b);
  }

  where(cond: View, a: View, b: View): BackendStorage {
    return elementwise.where(this.rt, cond, a, b);
  }

  // ---------------------------------------------------------------- reductions (ops/reduce.ts)

  reduce(op: ReduceOp, x: View, axes: readonly number[]): BackendStorage {
    return reduce.reduce(this.rt, op, x, axes);
  }

  argReduce(op: 'argmax' | 'argmin', x: View, axis: number): BackendStorage {
    return reduce.argReduce(this.rt, op, x, axis);
  }

  // ---------------------------------------------------------------- linear algebra (ops/linalg.ts)

  /** The kernel, tile and K split `matmul(a, b)` uses (matmul-plan.ts). */
  planMatmul(a: StridedOperand, b: StridedOperand): MatmulPlan {
    return matmulPlan(a, b, this.limits, this.matmulTuning);
  }

  matmul(a: View, b: View): BackendStorage {
    return linalg.matmul(this.rt, a, b, this.matmulTuning);
  }

  // ---------------------------------------------------------------- rows (ops/rows.ts)

  softmax(x: View, cols: number, log: boolean): BackendStorage {
    return rows.softmax(this.rt, x, cols, log);
  }

  softmaxBackward(y: View, dy: View, cols: number, log: boolean): BackendStorage {
    return rows.softmaxBackward(this.rt, y, dy, cols, log);
  }

  layerNorm(x: View, weight: View | null, bias: View | null, cols: number, eps: number): NormForward {
    return rows.normForward(this.rt, 'layerNorm', x, weight, bias, cols, eps, true);
  }

  rmsNorm(x: View, weight: View | null, cols: number, eps: number): NormForward {
    return rows.normForward(this.rt, 'rmsNorm', x, weight, null, cols, eps, false);
  }

  layerNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
    return rows.normBackward(this.rt, 'layerNormBackward', dy, x, weight, stats, cols, true, wanted);
  }

  rmsNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
    return rows.normBackward(this.rt, 'rmsNormBackward', dy, x, weight, stats, cols, false, wanted);
  }

  // ---------------------------------------------------------------- indexing (ops/indexing.ts, ops/topk.ts)

  gatherRows(table: View, ids: View): BackendStorage {
    return indexing.gatherRows(this.rt, table, ids);
  }

  scatterAddRows(rowCount: number, ids: View, src: View): BackendStorage {
    return indexing.scatterAddRows(this.rt, rowCount, ids, src);
  }

  gatherFlat(x: View, idx: View): BackendStorage {
    return indexing.gatherFlat(this.rt, x, idx);
  }

  scatterFlat(dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
    indexing.scatterFlat(this.rt, dst, dtype, idx, src, mode);
  }

  topkAbs(x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
    return topk.topkAbs(this.rt, x, k);
  }

  // ---------------------------------------------------------------- random (ops/random.ts)

  random(kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number): BackendStorage {
    return random.random(this.rt, kind, dtype, size, seed, offset);
  }

  /**
   * The raw Philox words (uint32 bit patterns, in an int32 storage) of the stream `random` draws from: element i
   * is word i mod 4 of block floor(i / 4), as @siftjs/tensor's philox.fillUint32.
   */
  randomBits(size: number, seed: readonly [number, number], offset: number): BackendStorage {
    return random.randomBits(this.rt, size, seed, offset);
  }

  // ---------------------------------------------------------------- optimizer (ops/optim.ts)

  adamw(p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper): void {
    optim.adamw(this.rt, p, g, m, v, dtype, size, h);
  }

  adamwIncrement(a: AdamWIncrementArgs): void {
    optim.adamwIncrement(this.rt, a);
  }
}
