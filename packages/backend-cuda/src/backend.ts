import { type Backend, type KernelMethods, type KernelTable, delegateKernels } from '@siftjs/tensor';
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

/** The contract's methods in its order, each the function of its name in kernels/<method>.ts, run on the device. */
const kernels = {
  // identity and storage
  init, info, alloc, upload, read, free, memoryStats, resetPeak,
  // primitives (required): layout, elementwise, reductions, linear algebra, indexing, random
  fill, copy, copyInto, cast, unary, binary, where, reduce, argReduce, matmul,
  gatherRows, scatterAddRows, gatherFlat, scatterFlat, random,
  // fused kernels (optional): rows, selection, optimizer steps
  softmax, softmaxBackward, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward, topkAbs, adamw, adamwIncrement,
} satisfies KernelTable<CudaDevice>;

/**
 * The Backend contract on one CUDA device: the table above (delegateKernels forwards each method to its kernel),
 * run against the device state (device.ts: context, stream, allocator, compiler, cuBLAS). Dispatch enqueues and
 * returns; `read` waits.
 */
export interface CudaBackend extends KernelMethods<typeof kernels> {}
export class CudaBackend implements Backend {
  readonly name = 'cuda';
  private readonly dev: CudaDevice;

  constructor(opts: CudaBackendOptions = {}) {
    this.dev = new CudaDevice(opts);
  }

  /** Returns pooled device memory to the driver (not part of the contract). */
  emptyCache() {
    return this.dev.allocator.emptyCache();
  }

  // The kernel methods: the table above, each forwarding to its kernel on this backend's state.
  static {
    delegateKernels(CudaBackend, (b) => b.dev, kernels);
  }
}
