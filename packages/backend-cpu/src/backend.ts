import type {
  AdamWHyper,
  AdamWIncrementArgs,
  Backend,
  BackendInfo,
  BackendMemoryStats,
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
 * The CPU backend: a delegation table and nothing else. Each kernel of the contract is the function of the same
 * name in kernels/<method>.ts; storage, threads and the dispatch tiers are the plumbing in runtime/ and threads/.
 */
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

  // ---------------------------------------------------------------- kernels (kernels/<method>.ts)

  fill(dtype: DType, size: number, value: number): BackendStorage {
    return fill(this.cpu, dtype, size, value);
  }

  copy(x: View): BackendStorage {
    return copy(this.cpu, x);
  }

  copyInto(dst: View, src: View): void {
    copyInto(this.cpu, dst, src);
  }

  cast(x: View, dtype: DType): BackendStorage {
    return cast(this.cpu, x, dtype);
  }

  unary(op: UnaryOp, x: View): BackendStorage {
    return unary(this.cpu, op, x);
  }

  binary(op: BinaryOp, a: View, b: View): BackendStorage {
    return binary(this.cpu, op, a, b);
  }

  where(cond: View, a: View, b: View): BackendStorage {
    return where(this.cpu, cond, a, b);
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[]): BackendStorage {
    return reduce(this.cpu, op, x, axes);
  }

  argReduce(op: 'argmax' | 'argmin', x: View, axis: number): BackendStorage {
    return argReduce(this.cpu, op, x, axis);
  }

  matmul(a: View, b: View): BackendStorage {
    return matmul(this.cpu, a, b);
  }

  sampledMatmul(a: View, g: View, idx: View, transposed: boolean): BackendStorage {
    return sampledMatmul(this.cpu, a, g, idx, transposed);
  }

  softmax(x: View, cols: number, log: boolean): BackendStorage {
    return softmax(this.cpu, x, cols, log);
  }

  softmaxBackward(y: View, dy: View, cols: number, log: boolean): BackendStorage {
    return softmaxBackward(this.cpu, y, dy, cols, log);
  }

  layerNorm(x: View, weight: View | null, bias: View | null, cols: number, eps: number): NormForward {
    return layerNorm(this.cpu, x, weight, bias, cols, eps);
  }

  layerNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
    return layerNormBackward(this.cpu, dy, x, weight, stats, cols, wanted);
  }

  rmsNorm(x: View, weight: View | null, cols: number, eps: number): NormForward {
    return rmsNorm(this.cpu, x, weight, cols, eps);
  }

  rmsNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
    return rmsNormBackward(this.cpu, dy, x, weight, stats, cols, wanted);
  }

  gatherRows(table: View, ids: View): BackendStorage {
    return gatherRows(this.cpu, table, ids);
  }

  scatterAddRows(rows: number, ids: View, src: View): BackendStorage {
    return scatterAddRows(this.cpu, rows, ids, src);
  }

  gatherFlat(x: View, idx: View): BackendStorage {
    return gatherFlat(this.cpu, x, idx);
  }

  scatterFlat(dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
    scatterFlat(this.cpu, dst, dtype, idx, src, mode);
  }

  topkAbs(x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
    return topkAbs(this.cpu, x, k);
  }

  random(kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number): BackendStorage {
    return random(this.cpu, kind, dtype, size, seed, offset);
  }

  adamw(p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper): void {
    adamw(this.cpu, p, g, m, v, dtype, size, h);
  }

  adamwIncrement(a: AdamWIncrementArgs): void {
    adamwIncrement(this.cpu, a);
  }
}
