/**
 * The Backend contract on one GPUDevice, as a table: each contract method is the function of the same name in
 * kernels/<method>.ts, run on the plumbing the backend owns (runtime.ts: device, encoder, buffer pool, pipelines).
 */
import type {
  AdamWHyper,
  AdamWIncrementArgs,
  Backend,
  BackendInfo,
  BackendStorage,
  BinaryOp,
  DType,
  NormBackward,
  NormForward,
  NormGradients,
  NormStats,
  ReduceOp,
  TypedArray,
  UnaryOp,
  View,
} from '@siftjs/tensor';
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
import { type WebGpuMemoryStats, memoryStats } from './kernels/memoryStats.js';
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

/** The Backend kernels as WGSL compute shaders on one GPUDevice. */
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

  // ---------------------------------------------------------------- the contract, one file each in kernels/

  info(): BackendInfo {
    return info(this.rt, this.name);
  }
  alloc(dtype: DType, size: number): BackendStorage {
    return alloc(this.rt, dtype, size);
  }
  upload(dtype: DType, data: TypedArray): BackendStorage {
    return upload(this.rt, dtype, data);
  }
  read(storage: BackendStorage, dtype: DType, size: number): Promise<TypedArray> {
    return read(this.rt, storage, dtype, size);
  }
  free(storage: BackendStorage): void {
    free(this.rt, storage);
  }
  memoryStats(): WebGpuMemoryStats {
    return memoryStats(this.rt);
  }
  resetPeak(): void {
    resetPeak(this.rt);
  }
  fill(dtype: DType, size: number, value: number): BackendStorage {
    return fill(this.rt, dtype, size, value);
  }
  copy(x: View): BackendStorage {
    return copy(this.rt, x);
  }
  copyInto(dst: View, src: View): void {
    copyInto(this.rt, dst, src);
  }
  cast(x: View, dtype: DType): BackendStorage {
    return cast(this.rt, x, dtype);
  }
  unary(op: UnaryOp, x: View): BackendStorage {
    return unary(this.rt, op, x);
  }
  binary(op: BinaryOp, a: View, b: View): BackendStorage {
    return binary(this.rt, op, a, b);
  }
  where(cond: View, a: View, b: View): BackendStorage {
    return where(this.rt, cond, a, b);
  }
  reduce(op: ReduceOp, x: View, axes: readonly number[]): BackendStorage {
    return reduce(this.rt, op, x, axes);
  }
  argReduce(op: 'argmax' | 'argmin', x: View, axis: number): BackendStorage {
    return argReduce(this.rt, op, x, axis);
  }
  matmul(a: View, b: View): BackendStorage {
    return matmul(this.rt, a, b);
  }
  softmax(x: View, cols: number, log: boolean): BackendStorage {
    return softmax(this.rt, x, cols, log);
  }
  softmaxBackward(y: View, dy: View, cols: number, log: boolean): BackendStorage {
    return softmaxBackward(this.rt, y, dy, cols, log);
  }
  layerNorm(x: View, weight: View | null, bias: View | null, cols: number, eps: number): NormForward {
    return layerNorm(this.rt, x, weight, bias, cols, eps);
  }
  layerNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
    return layerNormBackward(this.rt, dy, x, weight, stats, cols, wanted);
  }
  rmsNorm(x: View, weight: View | null, cols: number, eps: number): NormForward {
    return rmsNorm(this.rt, x, weight, cols, eps);
  }
  rmsNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
    return rmsNormBackward(this.rt, dy, x, weight, stats, cols, wanted);
  }
  gatherRows(table: View, ids: View): BackendStorage {
    return gatherRows(this.rt, table, ids);
  }
  scatterAddRows(rows: number, ids: View, src: View): BackendStorage {
    return scatterAddRows(this.rt, rows, ids, src);
  }
  gatherFlat(x: View, idx: View): BackendStorage {
    return gatherFlat(this.rt, x, idx);
  }
  scatterFlat(dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
    scatterFlat(this.rt, dst, dtype, idx, src, mode);
  }
  topkAbs(x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
    return topkAbs(this.rt, x, k);
  }
  random(kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number): BackendStorage {
    return random(this.rt, kind, dtype, size, seed, offset);
  }
  adamw(p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper): void {
    adamw(this.rt, p, g, m, v, dtype, size, h);
  }
  adamwIncrement(a: AdamWIncrementArgs): void {
    adamwIncrement(this.rt, a);
  }
}
