import type {
  AdamWHyper,
  AdamWIncrementArgs,
  Backend,
  BackendStorage,
  BinaryOp,
  DType,
  NormGradients,
  NormStats,
  ReduceOp,
  TypedArray,
  UnaryOp,
  View,
} from '@siftjs/tensor';
import { type CudaBackendOptions, CudaDevice } from './device.js';
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
import { init } from './kernels/init.js';
import { layerNorm } from './kernels/layerNorm.js';
import { layerNormBackward } from './kernels/layerNormBackward.js';
import { matmul } from './kernels/matmul.js';
import { memoryStats } from './kernels/memoryStats.js';
import { random } from './kernels/random.js';
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

/**
 * The Backend contract on one CUDA device: each method is kernels/<method>.ts, run against the device state
 * (device.ts: context, stream, allocator, compiler, cuBLAS). Dispatch enqueues and returns; `read` waits.
 */
export class CudaBackend implements Backend {
  readonly name = 'cuda';
  private readonly dev: CudaDevice;

  constructor(opts: CudaBackendOptions = {}) {
    this.dev = new CudaDevice(opts);
  }

  init() {
    return init(this.dev);
  }
  info() {
    return info(this.dev);
  }

  alloc(dtype: DType, size: number) {
    return alloc(this.dev, dtype, size);
  }
  upload(dtype: DType, data: TypedArray) {
    return upload(this.dev, dtype, data);
  }
  read(storage: BackendStorage, dtype: DType, size: number) {
    return read(this.dev, storage, dtype, size);
  }
  free(storage: BackendStorage) {
    return free(this.dev, storage);
  }
  memoryStats() {
    return memoryStats(this.dev);
  }
  resetPeak() {
    return resetPeak(this.dev);
  }
  /** Returns pooled device memory to the driver (not part of the contract). */
  emptyCache() {
    return this.dev.allocator.emptyCache();
  }

  fill(dtype: DType, size: number, value: number) {
    return fill(this.dev, dtype, size, value);
  }
  copy(x: View) {
    return copy(this.dev, x);
  }
  copyInto(dst: View, src: View) {
    return copyInto(this.dev, dst, src);
  }
  cast(x: View, dtype: DType) {
    return cast(this.dev, x, dtype);
  }

  unary(op: UnaryOp, x: View) {
    return unary(this.dev, op, x);
  }
  binary(op: BinaryOp, a: View, b: View) {
    return binary(this.dev, op, a, b);
  }
  where(cond: View, a: View, b: View) {
    return where(this.dev, cond, a, b);
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[]) {
    return reduce(this.dev, op, x, axes);
  }
  argReduce(op: 'argmax' | 'argmin', x: View, axis: number) {
    return argReduce(this.dev, op, x, axis);
  }

  matmul(a: View, b: View) {
    return matmul(this.dev, a, b);
  }

  softmax(x: View, cols: number, log: boolean) {
    return softmax(this.dev, x, cols, log);
  }
  softmaxBackward(y: View, dy: View, cols: number, log: boolean) {
    return softmaxBackward(this.dev, y, dy, cols, log);
  }
  layerNorm(x: View, weight: View | null, bias: View | null, cols: number, eps: number) {
    return layerNorm(this.dev, x, weight, bias, cols, eps);
  }
  layerNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients) {
    return layerNormBackward(this.dev, dy, x, weight, stats, cols, wanted);
  }
  rmsNorm(x: View, weight: View | null, cols: number, eps: number) {
    return rmsNorm(this.dev, x, weight, cols, eps);
  }
  rmsNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients) {
    return rmsNormBackward(this.dev, dy, x, weight, stats, cols, wanted);
  }

  gatherRows(table: View, ids: View) {
    return gatherRows(this.dev, table, ids);
  }
  scatterAddRows(rows: number, ids: View, src: View) {
    return scatterAddRows(this.dev, rows, ids, src);
  }
  gatherFlat(x: View, idx: View) {
    return gatherFlat(this.dev, x, idx);
  }
  scatterFlat(dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add') {
    return scatterFlat(this.dev, dst, dtype, idx, src, mode);
  }
  topkAbs(x: View, k: number) {
    return topkAbs(this.dev, x, k);
  }

  random(kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number) {
    return random(this.dev, kind, dtype, size, seed, offset);
  }

  adamw(p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper) {
    return adamw(this.dev, p, g, m, v, dtype, size, h);
  }
  adamwIncrement(a: AdamWIncrementArgs) {
    return adamwIncrement(this.dev, a);
  }
}
