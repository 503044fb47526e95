import {
  type AdamWHyper,
  type Backend,
  type BackendInfo,
  type BackendMemoryStats,
  type BackendStorage,
  type BinaryOp,
  COMPARISON_OPS,
  type DType,
  DTypeError,
  type NormBackward,
  type NormForward,
  type NormStats,
  type ReduceOp,
  ShapeError,
  type TypedArray,
  type UnaryOp,
  type View,
  contiguousStrides,
  fmtShape,
  sizeOf,
} from '@siftjs/tensor';
import { type AcquireOptions, type GpuContext, type KernelLimits, acquireDevice, describeAdapter } from './adapter.js';
import { BufferPool, type BufferPoolOptions, type PoolStats, StagingPool } from './buffers.js';
import { Encoder, WebGpuError } from './encoder.js';
import { LINEAR_GROUP, Params, type Scalar, collapse, floorPow2, grid, paramBlock, pu, scalarOf, storage } from './wgsl/common.js';
import { ERF, POW, binaryExpr, castExpr, mapSource, unaryExpr } from './wgsl/elementwise.js';
import { type MatmulPlan, type MatmulTuning, DEFAULT_MATMUL_TUNING, type StridedOperand, chooseTile, matmulParams, matmulPlan } from './matmul-plan.js';
import { type MatmulTile, matmulSource, matmulVec4Source, splitSumSource } from './wgsl/matmul.js';
import { argSource, reduceSource } from './wgsl/reduce.js';
import { softmaxBackwardSource, softmaxSource } from './wgsl/softmax.js';
import { adamwSource } from './wgsl/adamw.js';
import { IndexOp, gatherFlatSource, gatherRowsSource, scatterAddSource, scatterRowsSource, scatterSetSource, sortKeysSource } from './wgsl/indexing.js';
import { normBindings, normDxSource, normForwardSource, normParamsSource, paramStrip } from './wgsl/norm.js';
import { type RandomKind, randomSource } from './wgsl/random.js';
import { sortGlobalSource, sortLocalSource } from './wgsl/sort.js';
import { TOPK_STATE_WORDS, topkCollectSource, topkFinishSource, topkHistogramSource, topkPickSource } from './wgsl/topk.js';
import { IndexErrors } from './index-errors.js';

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

const shapeOf = (v: View): string => fmtShape(v.shape);

/** The Backend kernels as WGSL compute shaders on one GPUDevice. */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly limits: KernelLimits;
  readonly encoder: Encoder;
  private readonly pool: BufferPool;
  private readonly staging: StagingPool;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Invocations per workgroup of the 1D kernels. */
  private readonly wg: number;
  /** The scalar matmul kernel's tile. */
  readonly tile: MatmulTile;
  /** The thresholds matmul's plan uses (matmul-plan.ts). */
  readonly matmulTuning: MatmulTuning;
  private readonly device: GPUDevice;
  private readonly indexErrors: IndexErrors;

  constructor(
    readonly context: GpuContext,
    opts: WebGpuBackendSettings = {},
  ) {
    this.device = context.device;
    this.limits = context.limits;
    this.encoder = new Encoder(this.device);
    const { matmul, ...poolOpts } = opts;
    this.pool = new BufferPool(this.device, { ...poolOpts, beforeDestroy: () => this.encoder.flush() });
    this.staging = new StagingPool(this.device);
    this.wg = Math.min(256, floorPow2(this.limits.maxComputeInvocationsPerWorkgroup), floorPow2(this.limits.maxComputeWorkgroupSizeX));
    this.tile = chooseTile(this.limits);
    this.matmulTuning = { ...DEFAULT_MATMUL_TUNING, ...matmul };
    this.indexErrors = new IndexErrors(this.device);
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
      path: a.path,
      featureLevel: a.featureLevel,
      limits: this.limits,
      matmulTile: this.tile,
      pipelines: this.pipelines.size,
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
    await this.device.queue.onSubmittedWorkDone();
    await this.encoder.check();
    await this.indexErrors.check(this.encoder);
  }

  /** Frees pooled buffers and destroys the device. */
  destroy(): void {
    this.encoder.flush();
    this.pool.trim();
    this.staging.trim();
    this.indexErrors.destroy();
    this.device.destroy();
  }

  // ---------------------------------------------------------------- plumbing

  private op<T>(label: string, fn: () => T): T {
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

  private launch(label: string, source: string, params: Params, buffers: GPUBuffer[], groups: [number, number, number]): void {
    if (buffers.length > this.limits.maxStorageBuffersPerShaderStage) {
      throw new WebGpuError(`webgpu ${label}: a kernel binding ${buffers.length} storage buffers, over the device's ${this.limits.maxStorageBuffersPerShaderStage}`);
    }
    this.encoder.dispatch(label, this.pipeline(source, label), params.toArray(), buffers, groups);
  }

  private make(dtype: DType, size: number, op: string): GpuStorage {
    if (dtype === 'float64') throw new DTypeError(`webgpu ${op}: float64 is not supported on WebGPU (WGSL has no f64); use float32`);
    const bytes = Math.max(4, size * 4);
    if (bytes > this.limits.maxStorageBufferBindingSize) {
      throw new WebGpuError(
        `webgpu ${op}: ${size} elements (${bytes} bytes) exceed the device's largest storage binding (${this.limits.maxStorageBufferBindingSize} bytes)`,
      );
    }
    return new GpuStorage(this.pool.acquire(bytes, op), dtype, size, bytes);
  }

  private buf(s: BackendStorage, op: string): GPUBuffer {
    const st = s as GpuStorage;
    if (!(st instanceof GpuStorage)) throw new WebGpuError(`webgpu ${op}: a storage from another backend`);
    if (st.freed) throw new WebGpuError(`webgpu ${op}: storage used after it was freed`);
    return st.buffer;
  }

  private scalar(dtype: DType, op: string): Scalar {
    if (dtype === 'float64') throw new DTypeError(`webgpu ${op}: float64 is not supported on WebGPU (WGSL has no f64); use float32`);
    return scalarOf(dtype);
  }

  /**
   * An elementwise map: `out` (a strided view of `outBuffer`) ← expr(inputs) over `shape`. The dims are
   * collapsed first, so most views run as rank 1 or 2.
   */
  private map(
    label: string,
    shape: readonly number[],
    out: { buffer: GPUBuffer; type: Scalar; offset: number; strides: readonly number[] },
    inputs: { view: View; type: Scalar }[],
    expr: string,
    functions = '',
  ): void {
    const n = sizeOf(shape);
    if (n === 0) return;
    const c = collapse(shape, [out.strides, ...inputs.map((i) => i.view.strides)]);
    const rank = c.shape.length;
    const source = mapSource({ inputs: inputs.map((i) => i.type), out: out.type, expr, functions, rank, workgroup: this.wg });
    const p = new Params().u32(n);
    for (const d of c.shape) p.u32(d);
    p.i32(out.offset);
    for (const s of c.strides[0]) p.i32(s);
    inputs.forEach((inp, j) => {
      p.i32(inp.view.offset);
      for (const s of c.strides[j + 1]) p.i32(s);
    });
    const groups = grid(Math.ceil(n / this.wg), this.limits.maxComputeWorkgroupsPerDimension);
    this.launch(label, source, p, [out.buffer, ...inputs.map((i) => this.buf(i.view.storage, label))], groups);
  }

  private mapNew(label: string, dtype: DType, shape: readonly number[], inputs: { view: View; type: Scalar }[], expr: string, functions = ''): GpuStorage {
    const out = this.make(dtype, sizeOf(shape), label);
    this.map(label, shape, { buffer: out.buffer, type: this.scalar(dtype, label), offset: 0, strides: contiguousStrides(shape) }, inputs, expr, functions);
    return out;
  }

  // ---------------------------------------------------------------- storage

  alloc(dtype: DType, size: number): BackendStorage {
    return this.op(`alloc ${dtype} ×${size}`, () => {
      const s = this.make(dtype, size, 'alloc');
      this.encoder.clear(s.buffer, s.bytes);
      return s;
    });
  }

  upload(dtype: DType, data: TypedArray): BackendStorage {
    return this.op(`upload ${dtype} ×${data.length}`, () => {
      const s = this.make(dtype, data.length, 'upload');
      if (data.length > 0) {
        const words = dtype === 'bool' ? Uint32Array.from(data as Uint8Array) : data;
        // writeBuffer runs on the queue before anything still unsubmitted: submit first, since a pooled buffer
        // may still be read by recorded kernels.
        this.encoder.flush();
        this.device.queue.writeBuffer(s.buffer, 0, words.buffer, words.byteOffset, s.bytes);
      }
      return s;
    });
  }

  async read(storage: BackendStorage, dtype: DType, size: number): Promise<TypedArray> {
    this.encoder.checkAlive('read');
    const buffer = this.buf(storage, 'read');
    if (dtype === 'float64') throw new DTypeError('webgpu read: float64 is not supported on WebGPU');
    const bytes = size * 4;
    let raw: ArrayBuffer;
    if (size === 0) {
      raw = new ArrayBuffer(0);
    } else {
      const staging = this.staging.acquire(bytes);
      this.encoder.copy(buffer, 0, staging, 0, bytes);
      this.encoder.flush();
      try {
        raw = await this.staging.read(staging, bytes);
      } catch (e) {
        await this.encoder.check();
        throw new WebGpuError(`webgpu read of ${size} ${dtype}: ${(e as Error).message}`);
      }
    }
    await this.encoder.check();
    await this.indexErrors.check(this.encoder);
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
    const s = storage as GpuStorage;
    if (s.freed) throw new WebGpuError('webgpu: storage freed twice');
    s.freed = true;
    this.pool.release(s.buffer);
  }

  memoryStats(): WebGpuMemoryStats {
    const s: PoolStats = this.pool.stats();
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
    this.pool.resetPeak();
  }

  /** Destroys pooled (free) buffers. */
  trim(): void {
    this.pool.trim();
    this.staging.trim();
  }

  // ---------------------------------------------------------------- layout

  fill(dtype: DType, size: number, value: number): BackendStorage {
    const label = `fill ${dtype} ×${size}`;
    return this.op(label, () => {
      const out = this.make(dtype, size, 'fill');
      if (size === 0) return out;
      const p = new Params().u32(size);
      if (dtype === 'float32') p.f32(value);
      else if (dtype === 'int32') p.i32(value);
      else p.u32(value ? 1 : 0);
      const source = `${paramBlock(2)}
${storage(1, 'out', 'u32', true)}
@compute @workgroup_size(${this.wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let i = group * ${this.wg}u + lid;
    if (i < ${pu(0)}) { out[i] = ${pu(1)}; }
}
`;
      this.launch(label, source, p, [out.buffer], grid(Math.ceil(size / this.wg), this.limits.maxComputeWorkgroupsPerDimension));
      return out;
    });
  }

  copy(x: View): BackendStorage {
    const label = `copy ${x.dtype} ${shapeOf(x)}`;
    return this.op(label, () => {
      const t = this.scalar(x.dtype, 'copy');
      return this.mapNew(label, x.dtype, x.shape, [{ view: x, type: t }], 'a');
    });
  }

  copyInto(dst: View, src: View): void {
    const label = `copyInto ${dst.dtype} ${shapeOf(dst)} ← ${src.dtype} ${shapeOf(src)}`;
    this.op(label, () => {
      if (sizeOf(dst.shape) !== sizeOf(src.shape) || dst.shape.length !== src.shape.length) {
        throw new ShapeError(`webgpu copyInto: destination ${shapeOf(dst)} and source ${shapeOf(src)} differ`);
      }
      const [td, ts] = [this.scalar(dst.dtype, 'copyInto'), this.scalar(src.dtype, 'copyInto')];
      const out = { buffer: this.buf(dst.storage, label), type: td, offset: dst.offset, strides: dst.strides };
      this.map(label, src.shape, out, [{ view: src, type: ts }], castExpr(ts, td));
    });
  }

  cast(x: View, dtype: DType): BackendStorage {
    const label = `cast ${x.dtype}→${dtype} ${shapeOf(x)}`;
    return this.op(label, () => {
      const [from, to] = [this.scalar(x.dtype, 'cast'), this.scalar(dtype, 'cast')];
      return this.mapNew(label, dtype, x.shape, [{ view: x, type: from }], castExpr(from, to));
    });
  }

  // ---------------------------------------------------------------- elementwise

  unary(op: UnaryOp, x: View): BackendStorage {
    const label = `${op} ${x.dtype} ${shapeOf(x)}`;
    return this.op(label, () => {
      const t = this.scalar(x.dtype, op);
      const expr = unaryExpr(op, t);
      if (expr === null) throw new NotImplementedError(`${op} on ${x.dtype} (${shapeOf(x)})`);
      const outType: DType = op === 'not' || op === 'isnan' ? 'bool' : x.dtype;
      return this.mapNew(label, outType, x.shape, [{ view: x, type: t }], expr, ERF);
    });
  }

  binary(op: BinaryOp, a: View, b: View): BackendStorage {
    const label = `${op} ${a.dtype} ${shapeOf(a)}, ${b.dtype} ${shapeOf(b)}`;
    return this.op(label, () => {
      if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
        throw new ShapeError(`webgpu ${op}: operands ${shapeOf(a)} and ${shapeOf(b)} must have one shape (broadcast by strides)`);
      }
      if (a.dtype !== b.dtype) throw new DTypeError(`webgpu ${op}: operand dtypes ${a.dtype} and ${b.dtype} differ`);
      const t = this.scalar(a.dtype, op);
      const expr = binaryExpr(op, t);
      if (expr === null) throw new NotImplementedError(`${op} on ${a.dtype} (${shapeOf(a)})`);
      const outType: DType = COMPARISON_OPS.has(op) ? 'bool' : a.dtype;
      return this.mapNew(label, outType, a.shape, [{ view: a, type: t }, { view: b, type: t }], expr, POW);
    });
  }

  where(cond: View, a: View, b: View): BackendStorage {
    const label = `where ${shapeOf(cond)}, ${a.dtype} ${shapeOf(a)}, ${shapeOf(b)}`;
    return this.op(label, () => {
      const t = this.scalar(a.dtype, 'where');
      const tc = this.scalar(cond.dtype, 'where');
      const zero = tc === 'f32' ? '0.0' : tc === 'i32' ? '0' : '0u';
      return this.mapNew(label, a.dtype, a.shape, [{ view: cond, type: tc }, { view: a, type: t }, { view: b, type: t }], `select(c, b, a != ${zero})`);
    });
  }

  // ---------------------------------------------------------------- reductions

  reduce(op: ReduceOp, x: View, axes: readonly number[]): BackendStorage {
    const label = `${op} ${x.dtype} ${shapeOf(x)} over axes [${axes.join(', ')}]`;
    return this.op(label, () => {
      const input = this.scalar(x.dtype, op);
      const outDType: DType = op === 'sum' && (x.dtype === 'int32' || x.dtype === 'bool') ? 'int32' : x.dtype;
      const outType = scalarOf(outDType);
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
      const nOut = sizeOf(keptShape);
      const R = sizeOf(redShape);
      const out = this.make(outDType, nOut, op);
      if (nOut === 0) return out;
      const outer = collapse(keptShape, [keptStrides]);
      const inner = collapse(redShape, [redStrides]);
      const mode = R >= 256 && nOut <= 16384 ? 'workgroup' : 'thread';
      const source = reduceSource({ op, input, out: outType, outerRank: outer.shape.length, innerRank: inner.shape.length, mode, workgroup: this.wg });
      const p = new Params().u32(nOut).u32(R);
      for (const d of outer.shape) p.u32(d);
      for (const d of inner.shape) p.u32(d);
      p.i32(x.offset);
      for (const s of outer.strides[0]) p.i32(s);
      for (const s of inner.strides[0]) p.i32(s);
      const groups = grid(mode === 'workgroup' ? nOut : Math.ceil(nOut / this.wg), this.limits.maxComputeWorkgroupsPerDimension);
      this.launch(label, source, p, [out.buffer, this.buf(x.storage, op)], groups);
      return out;
    });
  }

  argReduce(op: 'argmax' | 'argmin', x: View, axis: number): BackendStorage {
    const label = `${op} ${x.dtype} ${shapeOf(x)} along axis ${axis}`;
    return this.op(label, () => {
      const input = this.scalar(x.dtype, op);
      const R = x.shape[axis];
      if (!(R > 0)) throw new ShapeError(`webgpu ${op}: axis ${axis} of ${shapeOf(x)} is empty`);
      const keptShape = x.shape.filter((_, i) => i !== axis);
      const keptStrides = x.strides.filter((_, i) => i !== axis);
      const nOut = sizeOf(keptShape);
      const out = this.make('int32', nOut, op);
      if (nOut === 0) return out;
      const outer = collapse(keptShape, [keptStrides]);
      const source = argSource({ op, input, outerRank: outer.shape.length, workgroup: this.wg });
      const p = new Params().u32(nOut).u32(R);
      for (const d of outer.shape) p.u32(d);
      p.i32(x.offset);
      for (const s of outer.strides[0]) p.i32(s);
      p.i32(x.strides[axis]);
      this.launch(label, source, p, [out.buffer, this.buf(x.storage, op)], grid(Math.ceil(nOut / this.wg), this.limits.maxComputeWorkgroupsPerDimension));
      return out;
    });
  }

  // ---------------------------------------------------------------- linear algebra

  /** The kernel, tile and K split `matmul(a, b)` uses (matmul-plan.ts). */
  planMatmul(a: StridedOperand, b: StridedOperand): MatmulPlan {
    return matmulPlan(a, b, this.limits, this.matmulTuning);
  }

  matmul(a: View, b: View): BackendStorage {
    const label = `matmul ${a.dtype} ${shapeOf(a)} @ ${b.dtype} ${shapeOf(b)}`;
    return this.op(label, () => {
      const r = a.shape.length;
      if (a.dtype !== 'float32' || b.dtype !== 'float32') {
        throw new DTypeError(`webgpu matmul: float32 operands only, got ${a.dtype} ${shapeOf(a)} and ${b.dtype} ${shapeOf(b)}`);
      }
      const batchOk = b.shape.length === r && r >= 2 && a.shape.slice(0, r - 2).every((d, i) => d === b.shape[i]);
      if (!batchOk || a.shape[r - 1] !== b.shape[r - 2]) {
        throw new ShapeError(`webgpu matmul: shapes ${shapeOf(a)} and ${shapeOf(b)} do not multiply ([...batch, M, K] @ [...batch, K, N])`);
      }
      const [M, N] = [a.shape[r - 2], b.shape[r - 1]];
      const total = sizeOf(a.shape.slice(0, r - 2)) * M * N;
      const out = this.make('float32', total, 'matmul');
      if (total === 0) return out;
      const plan = this.planMatmul(a, b);
      const { tile, splits, dims } = plan;
      const rb = dims.batchShape.length;
      const source = plan.layout ? matmulVec4Source(tile, rb, plan.layout) : matmulSource(tile, rb);
      const [bm, bn] = [tile.wy * tile.tm, tile.wx * tile.tn];
      const [ga, gb] = [this.buf(a.storage, 'matmul'), this.buf(b.storage, 'matmul')];
      // Split K: each slice writes its partial products to scratch, summed into `out` in slice order below.
      const target = splits > 1 ? this.make('float32', splits * total, 'matmul') : out;
      const maxZ = this.limits.maxComputeWorkgroupsPerDimension;
      const perDispatch = Math.floor(maxZ / splits);
      for (let base = 0; base < dims.batch; base += perDispatch) {
        const groups: [number, number, number] = [Math.ceil(N / bn), Math.ceil(M / bm), Math.min(perDispatch, dims.batch - base) * splits];
        if (groups[0] > maxZ || groups[1] > maxZ) throw new WebGpuError(`webgpu ${label}: output too large for one dispatch grid`);
        this.launch(label, source, matmulParams(plan, a, b, base, total), [target.buffer, ga, gb], groups);
      }
      if (target !== out) {
        this.launch(label, splitSumSource(this.wg), new Params().u32(total).u32(splits), [out.buffer, target.buffer], this.groups(total));
        this.free(target);
      }
      return out;
    });
  }

  // ---------------------------------------------------------------- fused rows

  private rowsWorkgroup(cols: number): number {
    // Enough invocations for the row, within the device's limits.
    return Math.max(1, Math.min(this.wg, floorPow2(Math.max(32, cols))));
  }

  softmax(x: View, cols: number, log: boolean): BackendStorage {
    const label = `${log ? 'logSoftmax' : 'softmax'} ${x.dtype} ${shapeOf(x)} rows of ${cols}`;
    return this.op(label, () => {
      if (x.dtype !== 'float32') throw new DTypeError(`webgpu ${label}: float32 only`);
      const n = sizeOf(x.shape);
      const out = this.make('float32', n, 'softmax');
      if (n === 0 || cols === 0) return out;
      const rows = n / cols;
      const wg = this.rowsWorkgroup(cols);
      const p = new Params().u32(rows).u32(cols).u32(x.offset).u32(0);
      this.launch(label, softmaxSource(wg, log), p, [out.buffer, this.buf(x.storage, label)], grid(rows, this.limits.maxComputeWorkgroupsPerDimension));
      return out;
    });
  }

  softmaxBackward(y: View, dy: View, cols: number, log: boolean): BackendStorage {
    const label = `${log ? 'logSoftmax' : 'softmax'} backward ${y.dtype} ${shapeOf(y)} rows of ${cols}`;
    return this.op(label, () => {
      if (y.dtype !== 'float32' || dy.dtype !== 'float32') throw new DTypeError(`webgpu ${label}: float32 only`);
      const n = sizeOf(y.shape);
      const out = this.make('float32', n, 'softmaxBackward');
      if (n === 0 || cols === 0) return out;
      const rows = n / cols;
      const wg = this.rowsWorkgroup(cols);
      const p = new Params().u32(rows).u32(cols).u32(y.offset).u32(dy.offset);
      const bufs = [out.buffer, this.buf(y.storage, label), this.buf(dy.storage, label)];
      this.launch(label, softmaxBackwardSource(wg, log), p, bufs, grid(rows, this.limits.maxComputeWorkgroupsPerDimension));
      return out;
    });
  }

  layerNorm(x: View, weight: View | null, bias: View | null, cols: number, eps: number): NormForward {
    return this.normForward('layerNorm', x, weight, bias, cols, eps, true);
  }

  rmsNorm(x: View, weight: View | null, cols: number, eps: number): NormForward {
    return this.normForward('rmsNorm', x, weight, null, cols, eps, false);
  }

  layerNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number): NormBackward {
    return this.normBackward('layerNormBackward', dy, x, weight, stats, cols, true);
  }

  rmsNormBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number): NormBackward {
    return this.normBackward('rmsNormBackward', dy, x, weight, stats, cols, false);
  }

  /** Rows of `cols` in a contiguous view, float32 operands, per-column vectors of `cols` elements. */
  private normRows(label: string, x: View, cols: number, vectors: (View | null)[], others: View[] = []): number {
    for (const v of [x, ...vectors, ...others]) {
      if (v && v.dtype !== 'float32') throw new DTypeError(`webgpu ${label}: float32 only, got ${v.dtype}`);
    }
    const n = sizeOf(x.shape);
    if (cols === 0) return 0;
    if (!Number.isInteger(cols) || cols < 0 || n % cols !== 0) throw new ShapeError(`webgpu ${label}: ${shapeOf(x)} is not rows of ${cols}`);
    for (const v of [...vectors, ...others]) {
      if (v && sizeOf(v.shape) !== (vectors.includes(v) ? cols : n)) throw new ShapeError(`webgpu ${label}: operand ${shapeOf(v)} does not fit rows of ${cols}`);
    }
    return n / cols;
  }

  /** Copies small vectors into one fresh buffer (for kernels that would bind more storage buffers than allowed). */
  private packVectors(op: string, parts: { buffer: GPUBuffer; offset: number; length: number }[]): { storage: GpuStorage; offsets: number[] } {
    const total = parts.reduce((a, p) => a + p.length, 0);
    const storage = this.make('float32', total, op);
    const offsets: number[] = [];
    let at = 0;
    for (const p of parts) {
      offsets.push(at);
      if (p.length > 0) this.encoder.copy(p.buffer, p.offset * 4, storage.buffer, at * 4, p.length * 4);
      at += p.length;
    }
    return { storage, offsets };
  }

  /** Vectors as bindings: their own buffers and offsets, or packed into one temporary buffer. */
  private bindVectors(op: string, parts: { buffer: GPUBuffer; offset: number; length: number }[], packed: boolean, temps: GpuStorage[]): { buffers: GPUBuffer[]; offsets: number[] } {
    if (!packed || parts.length === 0) return { buffers: parts.map((p) => p.buffer), offsets: parts.map((p) => p.offset) };
    const { storage, offsets } = this.packVectors(op, parts);
    temps.push(storage);
    return { buffers: [storage.buffer], offsets };
  }

  private tooMany(bindings: number): boolean {
    return bindings > this.limits.maxStorageBuffersPerShaderStage;
  }

  private normForward(op: 'layerNorm' | 'rmsNorm', x: View, weight: View | null, bias: View | null, cols: number, eps: number, centred: boolean): NormForward {
    const label = `${op} ${x.dtype} ${shapeOf(x)} rows of ${cols}${weight ? `, weight ${shapeOf(weight)}` : ''}${bias ? `, bias ${shapeOf(bias)}` : ''}`;
    return this.op(label, () => {
      const rows = this.normRows(label, x, cols, [weight, bias]);
      const n = rows * cols;
      const y = this.make('float32', n, op);
      const rstd = this.make('float32', rows, op);
      const mean = centred ? this.make('float32', rows, op) : undefined;
      if (n === 0) return { y, rstd, mean };
      const packed = this.tooMany(normBindings('forward', centred, !!weight, !!bias));
      const temps: GpuStorage[] = [];
      const ins = [weight, bias].filter((v): v is View => v !== null).map((v) => ({ buffer: this.buf(v.storage, label), offset: v.offset, length: cols }));
      const vin = this.bindVectors(op, ins, packed, temps);
      const stats = packed ? this.make('float32', (centred ? 2 : 1) * rows, op) : null;
      if (stats) temps.push(stats);
      const outs = stats ? [stats.buffer] : [...(mean ? [mean.buffer] : []), rstd.buffer];
      const p = new Params().u32(rows).u32(cols).u32(x.offset).f32(eps);
      p.u32(weight ? vin.offsets[0] : 0).u32(bias ? vin.offsets[weight ? 1 : 0] : 0);
      p.u32(0).u32(stats && centred ? rows : 0);
      const source = normForwardSource({ wg: this.rowsWorkgroup(cols), centred, weight: !!weight, bias: !!bias, packed });
      this.launch(label, source, p, [y.buffer, this.buf(x.storage, label), ...vin.buffers, ...outs], grid(rows, this.limits.maxComputeWorkgroupsPerDimension));
      if (stats) {
        if (mean) this.encoder.copy(stats.buffer, 0, mean.buffer, 0, rows * 4);
        this.encoder.copy(stats.buffer, centred ? rows * 4 : 0, rstd.buffer, 0, rows * 4);
      }
      for (const t of temps) this.free(t);
      return { y, rstd, mean };
    });
  }

  private normBackward(op: string, dy: View, x: View, weight: View | null, stats: NormStats, cols: number, centred: boolean): NormBackward {
    const label = `${op} ${x.dtype} ${shapeOf(x)} rows of ${cols}${weight ? `, weight ${shapeOf(weight)}` : ''}`;
    return this.op(label, () => {
      const rows = this.normRows(label, x, cols, [weight], [dy]);
      const n = rows * cols;
      const dx = this.make('float32', n, op);
      const dweight = weight ? this.zeros('float32', cols, op) : null;
      const dbias = centred ? this.zeros('float32', cols, op) : null;
      if (n === 0) return { dx, dweight, dbias };
      if (centred && !stats.mean) throw new ShapeError(`webgpu ${label}: layer norm statistics without the mean`);
      const stat = (s: BackendStorage) => ({ buffer: this.buf(s, label), offset: 0, length: rows });
      const meanV = centred ? [stat(stats.mean!)] : [];
      const rstdV = stat(stats.rstd);
      const temps: GpuStorage[] = [];
      const has = { wg: this.rowsWorkgroup(cols), centred, weight: !!weight, bias: false };
      const [xb, dyb] = [this.buf(x.storage, label), this.buf(dy.storage, label)];

      // dx: one workgroup per row.
      const dxPacked = this.tooMany(normBindings('dx', centred, !!weight, false));
      const wV = weight ? [{ buffer: this.buf(weight.storage, label), offset: weight.offset, length: cols }] : [];
      const vin = this.bindVectors(op, [...wV, ...meanV, rstdV], dxPacked, temps);
      const at = (k: number) => vin.offsets[k];
      const p = new Params().u32(rows).u32(cols).u32(x.offset).u32(dy.offset);
      p.u32(weight ? at(0) : 0).u32(centred ? at(wV.length) : 0).u32(at(wV.length + meanV.length));
      this.launch(label, normDxSource({ ...has, packed: dxPacked }), p, [dx.buffer, xb, dyb, ...vin.buffers], grid(rows, this.limits.maxComputeWorkgroupsPerDimension));

      // dweight, dbias: column strips summed down the rows.
      if (dweight || dbias) {
        const packed = this.tooMany(normBindings('params', centred, !!weight, false));
        const outs = [dweight, dbias].filter((s): s is GpuStorage => s !== null);
        const sums = packed ? this.make('float32', outs.length * cols, op) : null;
        if (sums) temps.push(sums);
        const sin = this.bindVectors(op, [...meanV, rstdV], packed, temps);
        const q = new Params().u32(rows).u32(cols).u32(x.offset).u32(dy.offset);
        q.u32(centred ? sin.offsets[0] : 0).u32(sin.offsets[meanV.length]);
        q.u32(0).u32(sums && weight ? cols : 0);
        const wg = this.wg;
        const bufs = [...(sums ? [sums.buffer] : outs.map((s) => s.buffer)), xb, dyb, ...sin.buffers];
        this.launch(label, normParamsSource({ ...has, wg, packed }), q, bufs, grid(Math.ceil(cols / paramStrip(wg)), this.limits.maxComputeWorkgroupsPerDimension));
        if (sums) outs.forEach((s, k) => this.encoder.copy(sums.buffer, k * cols * 4, s.buffer, 0, cols * 4));
      }
      for (const t of temps) this.free(t);
      return { dx, dweight, dbias };
    });
  }

  // ---------------------------------------------------------------- indexing

  /** A zero-filled storage. */
  private zeros(dtype: DType, size: number, op: string): GpuStorage {
    const s = this.make(dtype, size, op);
    this.encoder.clear(s.buffer, s.bytes);
    return s;
  }

  /**
   * A view's elements in row-major order as (buffer, offset): the view itself when it is contiguous, else a
   * contiguous copy (or, for indices of another dtype, an int32 cast) in `tmp`, which the caller frees.
   */
  private flat(v: View, op: string, dtype: DType = v.dtype): { buffer: GPUBuffer; offset: number; n: number; tmp: GpuStorage | null } {
    const n = sizeOf(v.shape);
    const c = collapse(v.shape, [v.strides]);
    if (v.dtype === dtype && (c.shape.length === 0 || (c.shape.length === 1 && c.strides[0][0] === 1))) {
      return { buffer: this.buf(v.storage, op), offset: v.offset, n, tmp: null };
    }
    const tmp = (v.dtype === dtype ? this.copy(v) : this.cast(v, dtype)) as GpuStorage;
    return { buffer: tmp.buffer, offset: 0, n, tmp };
  }

  /** Sorts 2·K u32 words as K pairs, descending (wgsl/sort.ts). */
  private sortPairs(label: string, pairs: GPUBuffer, K: number): void {
    const wg = this.sortWorkgroup();
    const B = 2 * wg;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    this.launch(label, sortLocalSource(wg, 'full'), new Params().u32(B), [pairs], grid(K / B, max));
    for (let k2 = 2 * B; k2 <= K; k2 *= 2) {
      for (let j = k2 / 2; j >= B; j /= 2) {
        this.launch(label, sortGlobalSource(wg), new Params().u32(K / 2).u32(j).u32(k2), [pairs], grid(Math.ceil(K / 2 / wg), max));
      }
      this.launch(label, sortLocalSource(wg, 'merge'), new Params().u32(k2), [pairs], grid(K / B, max));
    }
  }

  /** Invocations of the sort's workgroup: two pairs (16 bytes) of workgroup memory each. */
  private sortWorkgroup(): number {
    return Math.min(this.wg, floorPow2(this.limits.maxComputeWorkgroupStorageSize / 16));
  }

  /** The sort length for n pairs: a power of two, at least one sort block. */
  private sortLength(n: number): number {
    return Math.max(2 * this.sortWorkgroup(), 2 ** Math.ceil(Math.log2(Math.max(1, n))));
  }

  /** (~id, ~position) pairs of flat int32 ids, sorted: by id, then position (wgsl/indexing.ts). */
  private sortedIds(label: string, ids: { buffer: GPUBuffer; offset: number; n: number }): GpuStorage {
    const K = this.sortLength(ids.n);
    const pairs = this.make('int32', 2 * K, label);
    this.launch(label, sortKeysSource(this.wg), new Params().u32(ids.n).u32(K).u32(ids.offset), [pairs.buffer, ids.buffer], this.groups(K));
    this.sortPairs(label, pairs.buffer, K);
    return pairs;
  }

  private groups(invocations: number): [number, number, number] {
    return grid(Math.ceil(invocations / this.wg), this.limits.maxComputeWorkgroupsPerDimension);
  }

  gatherRows(table: View, ids: View): BackendStorage {
    const label = `gatherRows ${table.dtype} table ${shapeOf(table)}, ids ${ids.dtype} ${shapeOf(ids)}`;
    return this.op(label, () => {
      if (table.shape.length !== 2) throw new ShapeError(`webgpu ${label}: the table must be [rows, cols]`);
      const t = this.scalar(table.dtype, label);
      const [V, D] = table.shape;
      const idx = this.flat(ids, label, 'int32');
      const n = idx.n * D;
      const out = this.make(table.dtype, n, 'gatherRows');
      if (n > 0) {
        const p = new Params().u32(n).u32(D).u32(V).i32(table.offset).i32(table.strides[0]).i32(table.strides[1]).u32(idx.offset);
        this.launch(label, gatherRowsSource(t, this.wg), p, [out.buffer, this.buf(table.storage, label), idx.buffer, this.indexErrors.use()], this.groups(n));
      }
      if (idx.tmp) this.free(idx.tmp);
      return out;
    });
  }

  scatterAddRows(rows: number, ids: View, src: View): BackendStorage {
    const label = `scatterAddRows ${src.dtype} into ${rows} rows, ids ${shapeOf(ids)}, src ${shapeOf(src)}`;
    return this.op(label, () => {
      const t = this.scalar(src.dtype, label);
      const D = src.shape[src.shape.length - 1] ?? 1;
      const idx = this.flat(ids, label, 'int32');
      if (sizeOf(src.shape) !== idx.n * D) throw new ShapeError(`webgpu ${label}: src must hold one row of ${D} per id`);
      const out = this.zeros(src.dtype, rows * D, 'scatterAddRows');
      if (idx.n * D > 0) {
        const s = this.flat(src, label);
        const pairs = this.sortedIds(label, idx);
        const p = new Params().u32(idx.n * D).u32(D).u32(rows).u32(s.offset).u32(idx.n);
        this.launch(label, scatterRowsSource(t, this.wg), p, [out.buffer, pairs.buffer, s.buffer, this.indexErrors.use()], this.groups(idx.n * D));
        this.free(pairs);
        if (s.tmp) this.free(s.tmp);
      }
      if (idx.tmp) this.free(idx.tmp);
      return out;
    });
  }

  gatherFlat(x: View, idx: View): BackendStorage {
    const label = `gatherFlat ${x.dtype} ${shapeOf(x)}, idx ${shapeOf(idx)}`;
    return this.op(label, () => {
      const t = this.scalar(x.dtype, label);
      const ids = this.flat(idx, label, 'int32');
      const out = this.make(x.dtype, ids.n, 'gatherFlat');
      if (ids.n > 0) {
        const c = collapse(x.shape, [x.strides]);
        const rank = c.shape.length;
        const p = new Params().u32(ids.n).u32(sizeOf(x.shape)).u32(ids.offset);
        for (const d of c.shape) p.u32(d);
        p.i32(x.offset);
        for (const s of c.strides[0]) p.i32(s);
        this.launch(label, gatherFlatSource(t, rank, this.wg), p, [out.buffer, this.buf(x.storage, label), ids.buffer, this.indexErrors.use()], this.groups(ids.n));
      }
      if (ids.tmp) this.free(ids.tmp);
      return out;
    });
  }

  scatterFlat(dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
    const label = `scatterFlat ${mode} ${dtype}, idx ${shapeOf(idx)}, src ${src.dtype} ${shapeOf(src)}`;
    this.op(label, () => {
      const t = this.scalar(dtype, label);
      if (src.dtype !== dtype) throw new DTypeError(`webgpu ${label}: src is ${src.dtype}, the destination ${dtype}`);
      const d = this.buf(dst, label);
      const size = (dst as GpuStorage).size;
      const ids = this.flat(idx, label, 'int32');
      if (sizeOf(src.shape) !== ids.n) throw new ShapeError(`webgpu ${label}: ${sizeOf(src.shape)} values for ${ids.n} indices`);
      if (ids.n > 0) {
        const s = this.flat(src, label);
        if (mode === 'set') {
          const p = new Params().u32(ids.n).u32(size).u32(ids.offset).u32(s.offset).u32(IndexOp.scatterFlat);
          this.launch(label, scatterSetSource(t, this.wg), p, [d, ids.buffer, s.buffer, this.indexErrors.use()], this.groups(ids.n));
        } else {
          const pairs = this.sortedIds(label, ids);
          const p = new Params().u32(ids.n).u32(size).u32(s.offset);
          this.launch(label, scatterAddSource(t, this.wg), p, [d, pairs.buffer, s.buffer, this.indexErrors.use()], this.groups(ids.n));
          this.free(pairs);
        }
        if (s.tmp) this.free(s.tmp);
      }
      if (ids.tmp) this.free(ids.tmp);
    });
  }

  topkAbs(x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
    const label = `topkAbs ${x.dtype} ${shapeOf(x)}, k ${k}`;
    return this.op(label, () => {
      const t = this.scalar(x.dtype, label);
      const n = sizeOf(x.shape);
      if (!Number.isInteger(k) || k < 0 || k > n) throw new ShapeError(`webgpu topkAbs: k = ${k} is out of range for ${n} elements ${shapeOf(x)}`);
      const values = this.make(x.dtype, k, 'topkAbs');
      const indices = this.make('int32', k, 'topkAbs');
      if (k === 0) return { values, indices };
      const xs = this.flat(x, label);
      const state = this.zeros('int32', TOPK_STATE_WORDS, label);
      const hist = topkHistogramSource(t, this.wg);
      const pick = topkPickSource();
      const groups = Math.min(Math.ceil(n / this.wg), 1024);
      for (let pass = 0; pass < 8; pass++) {
        this.launch(label, hist, new Params().u32(n).u32(xs.offset).u32(pass).u32(groups * this.wg), [state.buffer, xs.buffer], [groups, 1, 1]);
        this.launch(label, pick, new Params().u32(pass).u32(k), [state.buffer], [1, 1, 1]);
      }
      const K = this.sortLength(k);
      const pairs = this.zeros('int32', 2 * K, label);
      this.launch(label, topkCollectSource(t, this.wg), new Params().u32(n).u32(xs.offset), [pairs.buffer, state.buffer, xs.buffer], this.groups(n));
      this.sortPairs(label, pairs.buffer, K);
      this.launch(label, topkFinishSource(t, this.wg), new Params().u32(k).u32(xs.offset), [values.buffer, indices.buffer, pairs.buffer, xs.buffer], this.groups(k));
      for (const s of [state, pairs, xs.tmp]) if (s) this.free(s);
      return { values, indices };
    });
  }

  // ---------------------------------------------------------------- random

  random(kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number): BackendStorage {
    const label = `random ${kind} ${dtype} ×${size}`;
    return this.op(label, () => {
      if (dtype !== 'float32') {
        this.scalar(dtype, label);
        throw new DTypeError(`webgpu ${label}: random numbers are float32, not ${dtype}`);
      }
      return this.philox(label, kind, 'float32', size, seed, offset);
    });
  }

  /**
   * The raw Philox words (uint32 bit patterns, in an int32 storage) of the stream `random` draws from: element i
   * is word i mod 4 of block floor(i / 4), as @siftjs/tensor's philox.fillUint32.
   */
  randomBits(size: number, seed: readonly [number, number], offset: number): BackendStorage {
    const label = `random bits ×${size}`;
    return this.op(label, () => this.philox(label, 'bits', 'int32', size, seed, offset));
  }

  private philox(label: string, kind: RandomKind, dtype: DType, size: number, seed: readonly [number, number], offset: number): GpuStorage {
    for (const w of seed) {
      if (!Number.isInteger(w) || w < 0 || w >= 2 ** 32) throw new RangeError(`webgpu ${label}: seed words must be integers in [0, 2^32), got [${seed.join(', ')}]`);
    }
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`webgpu ${label}: offset must be a non-negative integer below 2^53, got ${offset}`);
    const out = this.make(dtype, size, 'random');
    if (size > 0) {
      const p = new Params().u32(size).u32(seed[0]).u32(seed[1]).u32(offset % 2 ** 32).u32(Math.floor(offset / 2 ** 32));
      this.launch(label, randomSource(kind, this.wg), p, [out.buffer], this.groups(Math.ceil(size / 4)));
    }
    return out;
  }

  // ---------------------------------------------------------------- optimizer

  /** AdamW's words after n (wgsl/adamw.ts), constants in float64 as on the CPU. */
  private adamwParams(n: number, h: AdamWHyper, paramSize: number): Params {
    const decay = 1 - h.lr * h.weightDecay;
    const stepSize = h.lr / (1 - h.beta1 ** h.step);
    const bc2 = Math.sqrt(1 - h.beta2 ** h.step);
    return new Params().u32(n).f32(h.beta1).f32(1 - h.beta1).f32(h.beta2).f32(1 - h.beta2).f32(decay).f32(stepSize).f32(bc2).f32(h.eps).u32(paramSize);
  }

  private optimizerBuffers(label: string, dtype: DType, n: number, named: [string, BackendStorage][]): GPUBuffer[] {
    if (dtype !== 'float32') {
      this.scalar(dtype, label);
      throw new DTypeError(`webgpu ${label}: float32 only`);
    }
    return named.map(([name, s]) => {
      const b = this.buf(s, label);
      if ((s as GpuStorage).size < n) throw new ShapeError(`webgpu ${label}: ${name} holds ${(s as GpuStorage).size} elements, fewer than ${n}`);
      return b;
    });
  }

  adamw(p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper): void {
    const label = `adamw ${dtype} ×${size}`;
    this.op(label, () => {
      const bufs = this.optimizerBuffers(label, dtype, size, [['param', p], ['grad', g], ['m', m], ['v', v]]);
      if (size > 0) this.launch(label, adamwSource(this.wg, false), this.adamwParams(size, h, 0), bufs, this.groups(size));
    });
  }

  adamwSparse(
    param: BackendStorage,
    idx: BackendStorage,
    values: BackendStorage,
    g: BackendStorage,
    m: BackendStorage,
    v: BackendStorage,
    dtype: DType,
    k: number,
    h: AdamWHyper,
  ): void {
    const label = `adamwSparse ${dtype}, k ${k}`;
    this.op(label, () => {
      const [P, I, Va, G, M, V] = this.optimizerBuffers(label, dtype, k, [['param', param], ['indices', idx], ['values', values], ['grad', g], ['m', m], ['v', v]]);
      if (k === 0) return;
      const size = (param as GpuStorage).size;
      const err = this.indexErrors.use();
      if (!this.tooMany(7)) {
        this.launch(label, adamwSource(this.wg, true), this.adamwParams(k, h, size), [P, I, Va, G, M, V, err], this.groups(k));
        return;
      }
      // Seven bindings are more than this device allows: step the values, then scatter them (four each).
      this.launch(label, adamwSource(this.wg, false), this.adamwParams(k, h, 0), [Va, G, M, V], this.groups(k));
      const p = new Params().u32(k).u32(size).u32(0).u32(0).u32(IndexOp.adamwSparse);
      this.launch(label, scatterSetSource('f32', this.wg), p, [P, I, Va, err], this.groups(k));
    });
  }
}
