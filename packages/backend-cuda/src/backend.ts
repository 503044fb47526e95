import {
  type AdamWHyper,
  type AdamWIncrementArgs,
  type Backend,
  type BackendInfo,
  type BackendMemoryStats,
  type BackendStorage,
  type BinaryOp,
  type DType,
  type NormBackward,
  type NormGradients,
  type NormForward,
  type NormStats,
  type ReduceOp,
  type TypedArray,
  type UnaryOp,
  type View,
  adamwConstants,
  bytesPerElement,
  isFloat,
  makeArray,
} from '@siftjs/tensor';
import { type Block, CachingAllocator, type DeviceMemory, DeviceOutOfMemory } from './allocator.js';
import { KernelCompiler } from './compiler.js';
import * as F from './ffi.js';
import { type Arg, bytes, collapse, contiguousStridesOf, f64, i32, i64, packArgs, packGeo, ptr, u32 } from './geometry.js';
import * as K from './kernels/index.js';
import { type LoadedLibraries, loadLibraries } from './libraries.js';

/** A device allocation. `size` in elements of `dtype`. */
export class CudaStorage {
  constructor(
    readonly block: Block,
    readonly dtype: DType,
    readonly size: number,
  ) {}
  get ptr(): bigint {
    if (this.block.freed) throw new Error('CUDA backend: storage used after it was freed');
    return this.block.ptr;
  }
}

export interface CudaBackendOptions {
  /** Device ordinal (default 0, or $SIFT_CUDA_DEVICE). */
  device?: number;
  /** float32 matmuls on TF32 tensor cores (faster, ~10 mantissa bits); default false. */
  tf32?: boolean;
}

const BLOCK = 256;
const INDEX_OPS: Record<number, string> = { 1: 'embedding', 2: 'embedding backward', 3: 'gatherFlat', 4: 'scatterFlat', 5: 'adamwIncrement' };

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * The Backend kernel list on one CUDA device: one context (the primary), one stream ordering all work, the
 * caching allocator, NVRTC-compiled kernels (kernels/*) and cuBLAS for matmul. Dispatch enqueues and returns;
 * `read` waits for the stream without blocking the event loop (event polling).
 */
export class CudaBackend implements Backend {
  readonly name = 'cuda';
  private libs!: LoadedLibraries;
  private d!: F.DriverApi;
  private stream: unknown = null;
  private cublas: unknown = null;
  private compiler!: KernelCompiler;
  private allocator!: CachingAllocator;
  /** Native block holding one launch's arguments, and the pointer array into it (kernelParams). */
  private argBlock: unknown = null;
  private argPtrs: unknown = null;
  private argBase = 0n;
  /** Device error word [code, index, limit] written by indexing kernels. */
  private errWord: Block | null = null;
  private deviceName = '';
  private arch = '';
  private started = false;

  constructor(private readonly opts: CudaBackendOptions = {}) {}

  async init(): Promise<void> {
    if (this.started) return;
    this.libs = loadLibraries();
    const d = (this.d = this.libs.driver);
    const k = F.koffi();
    const ordinal = this.opts.device ?? Number(process.env.SIFT_CUDA_DEVICE ?? 0);
    const dev = [0];
    F.checkDriver(d, 'cuDeviceGet', d.cuDeviceGet(dev, ordinal));
    const ctx: [unknown] = [null];
    F.checkDriver(d, 'cuDevicePrimaryCtxRetain', d.cuDevicePrimaryCtxRetain(ctx, dev[0]));
    F.checkDriver(d, 'cuCtxSetCurrent', d.cuCtxSetCurrent(ctx[0]));
    const major = [0];
    const minor = [0];
    F.checkDriver(d, 'cuDeviceGetAttribute', d.cuDeviceGetAttribute(major, F.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev[0]));
    F.checkDriver(d, 'cuDeviceGetAttribute', d.cuDeviceGetAttribute(minor, F.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev[0]));
    this.arch = `${major[0]}${minor[0]}`;
    const name = Buffer.alloc(256);
    F.checkDriver(d, 'cuDeviceGetName', d.cuDeviceGetName(name, 256, dev[0]));
    this.deviceName = name.toString('utf8').replace(/\0.*$/s, '');
    const stream: [unknown] = [null];
    F.checkDriver(d, 'cuStreamCreate', d.cuStreamCreate(stream, F.CU_STREAM_NON_BLOCKING));
    this.stream = stream[0];
    const cb = this.libs.cublas;
    const handle: [unknown] = [null];
    F.checkCublas('cublasCreate_v2', cb.cublasCreate_v2(handle));
    this.cublas = handle[0];
    F.checkCublas('cublasSetStream_v2', cb.cublasSetStream_v2(this.cublas, this.stream));
    if (this.opts.tf32) F.checkCublas('cublasSetMathMode', cb.cublasSetMathMode(this.cublas, F.CUBLAS_TF32_TENSOR_OP_MATH));
    this.compiler = new KernelCompiler(d, this.libs.nvrtc, this.arch);
    this.allocator = new CachingAllocator(this.deviceMemory());
    this.argBlock = k.alloc('uint8_t', 8192);
    this.argPtrs = k.alloc('void *', 64);
    this.argBase = BigInt(k.address(this.argBlock));
    this.errWord = this.allocator.alloc(16);
    F.checkDriver(d, 'cuMemsetD8Async', d.cuMemsetD8Async(this.errWord.ptr, 0, 16, this.stream));
    this.started = true;
  }

  info(): BackendInfo {
    return {
      name: this.name,
      description: this.started ? `CUDA on ${this.deviceName} (sm_${this.arch}), NVRTC kernels, cuBLAS matmul${this.opts.tf32 ? ' (TF32)' : ''}` : 'CUDA (not started)',
      device: this.deviceName,
      arch: this.arch,
      kernelsCompiled: this.started ? this.compiler.size : 0,
    };
  }

  // ---------------------------------------------------------------- plumbing

  private deviceMemory(): DeviceMemory {
    const d = this.d;
    return {
      malloc: (n) => {
        const p: [number | bigint] = [0];
        const rc = d.cuMemAlloc_v2(p, n);
        if (rc === F.CUDA_ERROR_OUT_OF_MEMORY) throw new DeviceOutOfMemory(n);
        F.checkDriver(d, `cuMemAlloc_v2 (${n} bytes)`, rc);
        return BigInt(p[0]);
      },
      free: (p) => F.checkDriver(d, 'cuMemFree_v2', d.cuMemFree_v2(p)),
      memInfo: () => {
        const free: [number] = [0];
        const total: [number] = [0];
        F.checkDriver(d, 'cuMemGetInfo_v2', d.cuMemGetInfo_v2(free, total));
        return { free: Number(free[0]), total: Number(total[0]) };
      },
    };
  }

  private check(): void {
    if (!this.started) throw new Error("CUDA backend: not started (use await setBackend('cuda'), which runs init())");
  }

  private make(dtype: DType, size: number): CudaStorage {
    this.check();
    return new CudaStorage(this.allocator.alloc(Math.max(1, size) * bytesPerElement(dtype)), dtype, size);
  }

  private st(s: BackendStorage): CudaStorage {
    return s as CudaStorage;
  }

  /** Device address of a view's first element. */
  private at(v: View | { storage: BackendStorage; dtype: DType; offset: number }): bigint {
    return this.st(v.storage).ptr + BigInt(v.offset * bytesPerElement(v.dtype));
  }

  private launch(k: K.KernelSource, items: number, args: Arg[], block = BLOCK, gridCap = 65535): void {
    if (items <= 0) return;
    const fn = this.compiler.get(k);
    const { data, offsets } = packArgs(args);
    if (data.length > 8192 || offsets.length > 64) throw new Error(`${k.name}: too many kernel arguments`);
    const kf = F.koffi();
    new Uint8Array(kf.view(this.argBlock, 8192)).set(data);
    const ptrs = new DataView(kf.view(this.argPtrs, 8 * 64));
    offsets.forEach((o, i) => ptrs.setBigUint64(8 * i, this.argBase + BigInt(o), true));
    const grid = Math.min(Math.ceil(items / block), gridCap);
    F.checkDriver(this.d, `cuLaunchKernel (${k.name})`, this.d.cuLaunchKernel(fn, grid, 1, 1, block, 1, 1, 0, this.stream, this.argPtrs, null));
  }

  /** One row per block kernels. */
  private launchRows(k: K.KernelSource, rows: number, args: Arg[]): void {
    if (rows <= 0) return;
    this.launch(k, rows * K.ROW_BLOCK, args, K.ROW_BLOCK);
  }

  /** Blocking copy of device bytes to the host through a pinned buffer. */
  private readBytesSync(src: bigint, n: number): Uint8Array {
    const host: [unknown] = [null];
    F.checkDriver(this.d, 'cuMemHostAlloc', this.d.cuMemHostAlloc(host, Math.max(n, 1), F.CU_MEMHOSTALLOC_PORTABLE));
    try {
      F.checkDriver(this.d, 'cuMemcpyDtoHAsync_v2', this.d.cuMemcpyDtoHAsync_v2(host[0], src, n, this.stream));
      F.checkDriver(this.d, 'cuStreamSynchronize', this.d.cuStreamSynchronize(this.stream));
      this.throwDeviceErrors();
      return new Uint8Array(F.koffi().view(host[0], Math.max(n, 1))).slice(0, n);
    } finally {
      this.d.cuMemFreeHost(host[0]);
    }
  }

  /** After a synchronisation: an index error recorded by a kernel becomes the CPU backend's RangeError. */
  private throwDeviceErrors(): void {
    const host: [unknown] = [null];
    F.checkDriver(this.d, 'cuMemHostAlloc', this.d.cuMemHostAlloc(host, 16, F.CU_MEMHOSTALLOC_PORTABLE));
    try {
      F.checkDriver(this.d, 'cuMemcpyDtoHAsync_v2', this.d.cuMemcpyDtoHAsync_v2(host[0], this.errWord!.ptr, 12, this.stream));
      F.checkDriver(this.d, 'cuStreamSynchronize', this.d.cuStreamSynchronize(this.stream));
      const [code, index, limit] = new Int32Array(F.koffi().view(host[0], 12).slice(0));
      if (code) {
        F.checkDriver(this.d, 'cuMemsetD8Async', this.d.cuMemsetD8Async(this.errWord!.ptr, 0, 16, this.stream));
        throw new RangeError(`${INDEX_OPS[code] ?? 'CUDA kernel'}: index ${index} is out of range for ${limit} elements`);
      }
    } finally {
      this.d.cuMemFreeHost(host[0]);
    }
  }

  private err(): Arg {
    return ptr(this.errWord!.ptr);
  }

  /** A contiguous int32 copy of an index view, unless it already is one. */
  private contiguousInts(v: View): { p: bigint; n: number; tmp: CudaStorage | null } {
    const n = sizeOf(v.shape);
    const w = collapse(v.shape, [v.strides]);
    if (v.dtype === 'int32' && w.shape.length === 1 && (w.strides[0][0] === 1 || w.shape[0] === 1)) return { p: this.at(v), n, tmp: null };
    const tmp = this.cast(v, 'int32') as CudaStorage;
    return { p: tmp.ptr, n, tmp };
  }

  // ---------------------------------------------------------------- storage

  alloc(dtype: DType, size: number): BackendStorage {
    const s = this.make(dtype, size);
    F.checkDriver(this.d, 'cuMemsetD8Async', this.d.cuMemsetD8Async(s.ptr, 0, s.block.bytes, this.stream));
    return s;
  }

  upload(dtype: DType, data: TypedArray): BackendStorage {
    const s = this.make(dtype, data.length);
    const n = data.byteLength;
    if (n === 0) return s;
    // Pinned staging: the copy is asynchronous, so the staging buffer lives until the stream has passed it.
    const host: [unknown] = [null];
    F.checkDriver(this.d, 'cuMemHostAlloc', this.d.cuMemHostAlloc(host, n, F.CU_MEMHOSTALLOC_PORTABLE));
    new Uint8Array(F.koffi().view(host[0], n)).set(new Uint8Array(data.buffer, data.byteOffset, n));
    F.checkDriver(this.d, 'cuMemcpyHtoDAsync_v2', this.d.cuMemcpyHtoDAsync_v2(s.ptr, host[0], n, this.stream));
    this.afterStream(() => this.d.cuMemFreeHost(host[0]));
    return s;
  }

  /** Runs `fn` once the stream has passed this point (an event, polled from the event loop). */
  private afterStream(fn: () => void): Promise<void> {
    const ev: [unknown] = [null];
    F.checkDriver(this.d, 'cuEventCreate', this.d.cuEventCreate(ev, F.CU_EVENT_DISABLE_TIMING));
    F.checkDriver(this.d, 'cuEventRecord', this.d.cuEventRecord(ev[0], this.stream));
    return new Promise((resolve, reject) => {
      const poll = (delay: number) => {
        const rc = this.d.cuEventQuery(ev[0]);
        if (rc === F.CUDA_ERROR_NOT_READY) {
          setTimeout(() => poll(Math.min(delay * 2, 4)), delay);
          return;
        }
        this.d.cuEventDestroy_v2(ev[0]);
        try {
          F.checkDriver(this.d, 'cuEventQuery', rc);
          fn();
          resolve();
        } catch (e) {
          reject(e);
        }
      };
      setImmediate(() => poll(0));
    });
  }

  async read(storage: BackendStorage, dtype: DType, size: number): Promise<TypedArray> {
    const s = this.st(storage);
    const n = size * bytesPerElement(dtype);
    await this.afterStream(() => {});
    const raw = this.readBytesSync(s.ptr, n);
    const out = makeArray(dtype, size);
    new Uint8Array(out.buffer).set(raw);
    return out;
  }

  free(storage: BackendStorage): void {
    this.allocator.free(this.st(storage).block);
  }

  memoryStats(): BackendMemoryStats {
    if (!this.started) return { bytesInUse: 0, peakBytes: 0, bytesReserved: 0, allocations: 0 };
    const s = this.allocator.stats();
    const err = this.errWord ? this.errWord.bytes : 0;
    return { bytesInUse: s.bytesInUse - err, peakBytes: s.peakBytes - err, bytesReserved: s.bytesReserved, allocations: s.allocations - (this.errWord ? 1 : 0) };
  }

  resetPeak(): void {
    this.allocator.resetPeak();
  }

  /** Returns pooled device memory to the driver. */
  emptyCache(): void {
    this.allocator.emptyCache();
  }

  // ---------------------------------------------------------------- layout

  fill(dtype: DType, size: number, value: number): BackendStorage {
    const s = this.make(dtype, size);
    this.launch(K.fillKernel(dtype), size, [ptr(s.ptr), i64(size), f64(value)]);
    return s;
  }

  /** The generic strided map: operand 0 the output geometry, then the inputs. */
  private map(k: (rank: number) => K.KernelSource, out: { p: bigint; shape: readonly number[]; strides: readonly number[]; offset: number }, ins: View[]): void {
    const n = sizeOf(out.shape);
    if (n === 0) return;
    const walk = collapse(out.shape, [out.strides, ...ins.map((v) => v.strides)]);
    const geo = packGeo(walk, [out.offset, ...ins.map((v) => v.offset)]);
    // Base pointers are the storages' (offsets travel in Geo, in elements).
    this.launch(k(walk.shape.length), n, [...ins.map((v) => ptr(this.st(v.storage).ptr)), ptr(out.p), i64(n), bytes(geo)]);
  }

  private fresh(dtype: DType, shape: readonly number[]): { s: CudaStorage; geo: { p: bigint; shape: readonly number[]; strides: number[]; offset: number } } {
    const s = this.make(dtype, sizeOf(shape));
    return { s, geo: { p: s.ptr, shape, strides: contiguousStridesOf(shape), offset: 0 } };
  }

  copy(x: View): BackendStorage {
    return this.cast(x, x.dtype);
  }

  copyInto(dst: View, src: View): void {
    this.map((r) => K.castKernel(src.dtype, dst.dtype, r), { p: this.st(dst.storage).ptr, shape: dst.shape, strides: dst.strides, offset: dst.offset }, [src]);
  }

  cast(x: View, dtype: DType): BackendStorage {
    const { s, geo } = this.fresh(dtype, x.shape);
    this.map((r) => K.castKernel(x.dtype, dtype, r), geo, [x]);
    return s;
  }

  // ---------------------------------------------------------------- elementwise

  unary(op: UnaryOp, x: View): BackendStorage {
    const { s, geo } = this.fresh(K.unaryOutType(op, x.dtype), x.shape);
    this.map((r) => K.unaryKernel(op, x.dtype, r), geo, [x]);
    return s;
  }

  binary(op: BinaryOp, a: View, b: View): BackendStorage {
    const { s, geo } = this.fresh(K.binaryOutType(op, a.dtype), a.shape);
    this.map((r) => K.binaryKernel(op, a.dtype, r), geo, [a, b]);
    return s;
  }

  where(cond: View, a: View, b: View): BackendStorage {
    const { s, geo } = this.fresh(a.dtype, a.shape);
    this.map((r) => K.whereKernel(a.dtype, r), geo, [cond, a, b]);
    return s;
  }

  // ---------------------------------------------------------------- reductions

  private split(x: View, axes: readonly number[]) {
    const keptShape: number[] = [];
    const keptStrides: number[] = [];
    const redShape: number[] = [];
    const redStrides: number[] = [];
    x.shape.forEach((d, i) => {
      if (axes.includes(i)) {
        redShape.push(d);
        redStrides.push(x.strides[i]);
      } else {
        keptShape.push(d);
        keptStrides.push(x.strides[i]);
      }
    });
    return { kept: collapse(keptShape, [keptStrides]), red: collapse(redShape, [redStrides]), nOut: sizeOf(keptShape), nRed: sizeOf(redShape) };
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[]): BackendStorage {
    const { kept, red, nOut, nRed } = this.split(x, axes);
    const out = this.make(K.reduceOutType(op, x.dtype), nOut);
    const k = K.reduceKernel(op, x.dtype, kept.shape.length, red.shape.length);
    this.launch(k, nOut * K.REDUCE_BLOCK, [ptr(this.st(x.storage).ptr), ptr(out.ptr), i64(nOut), i64(nRed), bytes(packGeo(kept, [x.offset])), bytes(packGeo(red, [0]))], K.REDUCE_BLOCK);
    return out;
  }

  argReduce(op: 'argmax' | 'argmin', x: View, axis: number): BackendStorage {
    const { kept, nOut } = this.split(x, [axis]);
    const out = this.make('int32', nOut);
    const k = K.argReduceKernel(op, x.dtype, kept.shape.length);
    this.launch(k, nOut * K.REDUCE_BLOCK, [ptr(this.st(x.storage).ptr), ptr(out.ptr), i64(nOut), i64(x.shape[axis]), i64(x.strides[axis]), bytes(packGeo(kept, [x.offset]))], K.REDUCE_BLOCK);
    return out;
  }

  // ---------------------------------------------------------------- matmul (cuBLAS)

  /**
   * Row-major C[M,N] = A[M,K]·B[K,N] per batch is column-major Cᵀ = Bᵀ·Aᵀ: cuBLAS gets B first. An operand
   * whose inner dim has stride 1 goes in as is (op N, ld = its row stride); one whose outer dim has stride 1
   * (a transposed view) as op T; anything else, and batch dims that do not merge to one stride, is copied
   * contiguous first.
   */
  matmul(a: View, b: View): BackendStorage {
    if (!isFloat(a.dtype)) throw new TypeError(`CUDA matmul: float dtypes only, got ${a.dtype}`);
    const r = a.shape.length;
    const [M, Kd] = [a.shape[r - 2], a.shape[r - 1]];
    const N = b.shape[r - 1];
    const batchShape = a.shape.slice(0, r - 2);
    const batch = sizeOf(batchShape);
    const out = this.make(a.dtype, batch * M * N);
    if (M === 0 || N === 0 || batch === 0) return out;
    if (Kd === 0) {
      F.checkDriver(this.d, 'cuMemsetD8Async', this.d.cuMemsetD8Async(out.ptr, 0, out.block.bytes, this.stream));
      return out;
    }
    const temps: CudaStorage[] = [];
    const prep = (v: View, rows: number, cols: number) => {
      const rs = v.strides[r - 2];
      const cs = v.strides[r - 1];
      const bw = collapse(batchShape, [v.strides.slice(0, r - 2)]);
      const batchStride = bw.shape.length === 1 ? bw.strides[0][0] : null;
      if (batchStride !== null) {
        if (cs === 1 && rs >= Math.max(1, cols)) return { p: this.at(v), op: F.CUBLAS_OP_N, ld: rs, stride: batchStride };
        if (rs === 1 && cs >= Math.max(1, rows)) return { p: this.at(v), op: F.CUBLAS_OP_T, ld: cs, stride: batchStride };
      }
      const c = this.copy(v) as CudaStorage;
      temps.push(c);
      return { p: c.ptr, op: F.CUBLAS_OP_N, ld: cols, stride: rows * cols };
    };
    const A = prep(a, M, Kd);
    const B = prep(b, Kd, N);
    const f32 = a.dtype === 'float32';
    const alpha = f32 ? new Float32Array([1]) : new Float64Array([1]);
    const beta = f32 ? new Float32Array([0]) : new Float64Array([0]);
    const type = f32 ? F.CUDA_R_32F : F.CUDA_R_64F;
    const compute = f32 ? (this.opts.tf32 ? F.CUBLAS_COMPUTE_32F_FAST_TF32 : F.CUBLAS_COMPUTE_32F) : F.CUBLAS_COMPUTE_64F;
    const cb = this.libs.cublas;
    F.checkCublas(
      'cublasGemmStridedBatchedEx',
      cb.cublasGemmStridedBatchedEx(this.cublas, B.op, A.op, N, M, Kd, alpha, B.p, type, B.ld, B.stride, A.p, type, A.ld, A.stride, beta, out.ptr, type, N, M * N, batch, compute, F.CUBLAS_GEMM_DEFAULT),
    );
    for (const t of temps) this.free(t);
    return out;
  }

  // ---------------------------------------------------------------- fused rows

  softmax(x: View, cols: number, log: boolean): BackendStorage {
    const n = sizeOf(x.shape);
    const rows = cols ? n / cols : 0;
    const out = this.make(x.dtype, n);
    this.launchRows(K.softmaxKernel(x.dtype, log), rows, [ptr(this.at(x)), ptr(out.ptr), i64(rows), i64(cols)]);
    return out;
  }

  softmaxBackward(y: View, dy: View, cols: number, log: boolean): BackendStorage {
    const n = sizeOf(y.shape);
    const rows = cols ? n / cols : 0;
    const out = this.make(y.dtype, n);
    this.launchRows(K.softmaxBackwardKernel(y.dtype, log), rows, [ptr(this.at(y)), ptr(this.at(dy)), ptr(out.ptr), i64(rows), i64(cols)]);
    return out;
  }

  layerNorm(x: View, weight: View | null, bias: View | null, cols: number, eps: number): NormForward {
    return this.normForward(x, weight, bias, cols, eps, true);
  }

  rmsNorm(x: View, weight: View | null, cols: number, eps: number): NormForward {
    return this.normForward(x, weight, null, cols, eps, false);
  }

  layerNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
    return this.normBackward(dy, x, weight, stats, cols, true, wanted);
  }

  rmsNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward {
    return this.normBackward(dy, x, weight, stats, cols, false, { ...wanted, bias: false });
  }

  private normForward(x: View, w: View | null, b: View | null, cols: number, eps: number, centred: boolean): NormForward {
    const n = sizeOf(x.shape);
    const rows = cols ? n / cols : 0;
    const y = this.make(x.dtype, n);
    const rstd = this.make(x.dtype, rows);
    const mean = centred ? this.make(x.dtype, rows) : undefined;
    const k = K.normKernel(x.dtype, { centred, weight: !!w, bias: !!b });
    this.launchRows(k, rows, [ptr(this.at(x)), ptr(w ? this.at(w) : 0n), ptr(b ? this.at(b) : 0n), ptr(y.ptr), ptr(mean ? mean.ptr : 0n), ptr(rstd.ptr), i64(rows), i64(cols), f64(eps)]);
    return { y, rstd, mean };
  }

  private normBackward(dy: View, x: View, w: View | null, stats: NormStats, cols: number, centred: boolean, wanted: NormGradients): NormBackward {
    const n = sizeOf(x.shape);
    const rows = cols ? n / cols : 0;
    const mean = centred && stats.mean ? this.st(stats.mean).ptr : 0n;
    const rstd = this.st(stats.rstd).ptr;
    // Only the gradients asked for: a frozen weight's or bias's is neither allocated nor summed.
    const dx = wanted.input ? this.make(x.dtype, n) : null;
    if (dx) this.launchRows(K.normBackwardKernel(x.dtype, { centred, weight: !!w }), rows, [ptr(this.at(dy)), ptr(this.at(x)), ptr(w ? this.at(w) : 0n), ptr(mean), ptr(rstd), ptr(dx.ptr), i64(rows), i64(cols)]);
    const dweight = w && wanted.weight ? this.make(x.dtype, cols) : null;
    const dbias = centred && wanted.bias ? this.make(x.dtype, cols) : null;
    if (dweight || dbias) {
      this.launch(K.normParamGradKernel(x.dtype, centred), cols, [ptr(this.at(dy)), ptr(this.at(x)), ptr(mean), ptr(rstd), ptr(dweight ? dweight.ptr : 0n), ptr(dbias ? dbias.ptr : 0n), i64(rows), i64(cols)]);
    }
    return { dx, dweight, dbias };
  }

  // ---------------------------------------------------------------- indexing

  gatherRows(table: View, ids: View): BackendStorage {
    const [v, d] = table.shape;
    const idx = this.contiguousInts(ids);
    const out = this.make(table.dtype, idx.n * d);
    const n = idx.n * d;
    this.launch(K.gatherRowsKernel(table.dtype), n, [ptr(this.st(table.storage).ptr), ptr(idx.p), ptr(out.ptr), i64(n), i64(d), i64(v), i64(table.offset), i64(table.strides[0]), i64(table.strides[1]), this.err()]);
    if (idx.tmp) this.free(idx.tmp);
    return out;
  }

  scatterAddRows(rows: number, ids: View, src: View): BackendStorage {
    const d = src.shape[src.shape.length - 1];
    const idx = this.contiguousInts(ids);
    const out = this.alloc(src.dtype, rows * d) as CudaStorage;
    const n = idx.n * d;
    this.launch(K.scatterAddRowsKernel(src.dtype), n, [ptr(idx.p), ptr(this.at(src)), ptr(out.ptr), i64(n), i64(d), i64(rows), this.err()]);
    if (idx.tmp) this.free(idx.tmp);
    return out;
  }

  gatherFlat(x: View, idx: View): BackendStorage {
    const ids = this.contiguousInts(idx);
    const out = this.make(x.dtype, ids.n);
    const size = sizeOf(x.shape);
    const walk = collapse(x.shape, [x.strides]);
    this.launch(K.gatherFlatKernel(x.dtype, walk.shape.length), ids.n, [ptr(this.st(x.storage).ptr), ptr(ids.p), ptr(out.ptr), i64(ids.n), i64(size), bytes(packGeo(walk, [x.offset])), this.err()]);
    if (ids.tmp) this.free(ids.tmp);
    return out;
  }

  scatterFlat(dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
    const ids = this.contiguousInts(idx);
    const d = this.st(dst);
    this.launch(K.scatterFlatKernel(dtype, mode), ids.n, [ptr(d.ptr), ptr(ids.p), ptr(this.at(src)), i64(ids.n), i64(d.size), this.err()]);
    if (ids.tmp) this.free(ids.tmp);
  }

  /**
   * Magnitudes on the device, selection on the host (a synchronous read): SIFT selects once per run, so this
   * is not on the training step's path. Values are then gathered on the device.
   */
  topkAbs(x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
    const n = sizeOf(x.shape);
    const mags = this.make('float64', n);
    const walk = collapse(x.shape, [x.strides]);
    this.launch(K.magnitudeKernel(x.dtype, walk.shape.length), n, [ptr(this.st(x.storage).ptr), ptr(mags.ptr), i64(n), bytes(packGeo(walk, [x.offset]))]);
    const raw = this.readBytesSync(mags.ptr, n * 8);
    this.free(mags);
    const mag = new Float64Array(raw.buffer, raw.byteOffset, n);
    const order = selectTopk(mag, k);
    const indices = this.upload('int32', order);
    const values = this.gatherFlat(x, { storage: indices, dtype: 'int32', shape: [k], strides: [1], offset: 0 });
    return { values, indices };
  }

  // ---------------------------------------------------------------- random

  random(kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number): BackendStorage {
    if (!isFloat(dtype)) throw new Error(`CUDA random: dtype ${dtype} is not a float type`);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`philox: offset must be a non-negative integer below 2^53, got ${offset}`);
    const out = this.make(dtype, size);
    const blocks = K.randomBlocks(kind, dtype, size);
    this.launch(K.randomKernel(kind, dtype), blocks, [ptr(out.ptr), i64(size), u32(seed[0]), u32(seed[1]), u32(offset % 2 ** 32), u32(Math.floor(offset / 2 ** 32))]);
    return out;
  }

  // ---------------------------------------------------------------- optimizer

  adamw(p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper): void {
    const c = adamwConstants(h);
    const [P, G, Mm, V] = [p, g, m, v].map((s) => ptr(this.st(s).ptr));
    this.launch(K.adamwKernel(dtype), size, [P, G, Mm, V, i64(size), f64(c.beta1), f64(c.beta2), f64(c.eps), f64(c.decay), f64(c.stepSize), f64(c.bc2)]);
  }

  adamwIncrement(a: AdamWIncrementArgs): void {
    const [P, I, B, D, G, Mm, V] = [a.param, a.indices, a.base, a.delta, a.grad, a.m, a.v].map((s) => ptr(this.st(s).ptr));
    const S = a.steps ? ptr(this.st(a.steps).ptr) : ptr(0n);
    const { lr, beta1, beta2, eps, decay, stepSize, bc2 } = a.c;
    const constants = [lr, beta1, beta2, eps, decay, stepSize, bc2].map(f64);
    this.launch(K.adamwIncrementKernel(a.dtype, a.paramDtype), a.k, [P, I, B, D, G, Mm, V, S, i64(a.k), i64(a.paramSize), ...constants, this.err()]);
  }
}

/**
 * Indices of the k largest magnitudes (NaN already +inf), by magnitude descending, ties by lower index: the
 * k-th largest by a sort of a copy, then one pass taking those above it and, in index order, those equal.
 */
export function selectTopk(mag: Float64Array, k: number): Int32Array {
  if (k === 0) return new Int32Array(0);
  if (k > mag.length) throw new RangeError(`topkAbs: k = ${k} exceeds the ${mag.length} elements`);
  const sorted = Float64Array.from(mag).sort();
  const threshold = sorted[mag.length - k];
  const picked: number[] = [];
  for (let i = 0; i < mag.length && picked.length < k; i++) if (mag[i] > threshold) picked.push(i);
  for (let i = 0; i < mag.length && picked.length < k; i++) if (mag[i] === threshold) picked.push(i);
  picked.sort((a, b) => mag[b] - mag[a] || a - b);
  return Int32Array.from(picked);
}
