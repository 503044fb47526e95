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
import { type MatmulTile, chooseTile, matmulSource } from './wgsl/matmul.js';
import { argSource, reduceSource } from './wgsl/reduce.js';
import { softmaxBackwardSource, softmaxSource } from './wgsl/softmax.js';

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

export type WebGpuBackendOptions = AcquireOptions & BufferPoolOptions;

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
  readonly tile: MatmulTile;
  private readonly device: GPUDevice;

  constructor(
    readonly context: GpuContext,
    opts: BufferPoolOptions = {},
  ) {
    this.device = context.device;
    this.limits = context.limits;
    this.encoder = new Encoder(this.device);
    this.pool = new BufferPool(this.device, { ...opts, beforeDestroy: () => this.encoder.flush() });
    this.staging = new StagingPool(this.device);
    this.wg = Math.min(256, floorPow2(this.limits.maxComputeInvocationsPerWorkgroup), floorPow2(this.limits.maxComputeWorkgroupSizeX));
    this.tile = chooseTile(this.limits);
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
  }

  /** Frees pooled buffers and destroys the device. */
  destroy(): void {
    this.encoder.flush();
    this.pool.trim();
    this.staging.trim();
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
      const [M, K, N] = [a.shape[r - 2], a.shape[r - 1], b.shape[r - 1]];
      const batchShape = a.shape.slice(0, r - 2);
      const batch = sizeOf(batchShape);
      const out = this.make('float32', batch * M * N, 'matmul');
      if (batch * M * N === 0) return out;
      const outBatchStrides = contiguousStrides(batchShape).map((s) => s * M * N);
      const c = collapse(batchShape, [a.strides.slice(0, r - 2), b.strides.slice(0, r - 2), outBatchStrides]);
      const rb = c.shape.length;
      const source = matmulSource(this.tile, rb);
      const bm = this.tile.wy * this.tile.tm;
      const bn = this.tile.wx * this.tile.tn;
      const [ga, gb] = [this.buf(a.storage, 'matmul'), this.buf(b.storage, 'matmul')];
      const maxZ = this.limits.maxComputeWorkgroupsPerDimension;
      for (let base = 0; base < batch; base += maxZ) {
        const p = new Params().u32(M).u32(N).u32(K).u32(base);
        for (const d of c.shape) p.u32(d);
        p.i32(a.offset);
        for (const s of c.strides[0]) p.i32(s);
        p.i32(a.strides[r - 2]).i32(a.strides[r - 1]);
        p.i32(b.offset);
        for (const s of c.strides[1]) p.i32(s);
        p.i32(b.strides[r - 2]).i32(b.strides[r - 1]);
        const groups: [number, number, number] = [Math.ceil(N / bn), Math.ceil(M / bm), Math.min(maxZ, batch - base)];
        if (groups[0] > maxZ || groups[1] > maxZ) throw new WebGpuError(`webgpu ${label}: output too large for one dispatch grid`);
        this.launch(label, source, p, [out.buffer, ga, gb], groups);
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

  layerNorm(_x: View, _w: View | null, _b: View | null, _cols: number, _eps: number): NormForward {
    throw new NotImplementedError(`layerNorm (${shapeOf(_x)})`);
  }
  layerNormBackward(dy: View, _x: View, _w: View | null, _s: NormStats, _cols: number): NormBackward {
    throw new NotImplementedError(`layerNormBackward (${shapeOf(dy)})`);
  }
  rmsNorm(x: View, _w: View | null, _cols: number, _eps: number): NormForward {
    throw new NotImplementedError(`rmsNorm (${shapeOf(x)})`);
  }
  rmsNormBackward(dy: View, _x: View, _w: View | null, _s: NormStats, _cols: number): NormBackward {
    throw new NotImplementedError(`rmsNormBackward (${shapeOf(dy)})`);
  }

  // ---------------------------------------------------------------- indexing, random, optimizer: not yet

  gatherRows(table: View, ids: View): BackendStorage {
    throw new NotImplementedError(`gatherRows (table ${shapeOf(table)}, ids ${shapeOf(ids)})`);
  }
  scatterAddRows(rows: number, ids: View, src: View): BackendStorage {
    throw new NotImplementedError(`scatterAddRows (${rows} rows, ids ${shapeOf(ids)}, src ${shapeOf(src)})`);
  }
  gatherFlat(x: View, idx: View): BackendStorage {
    throw new NotImplementedError(`gatherFlat (x ${shapeOf(x)}, idx ${shapeOf(idx)})`);
  }
  scatterFlat(_dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
    throw new NotImplementedError(`scatterFlat ${mode} (${dtype}, idx ${shapeOf(idx)}, src ${shapeOf(src)})`);
  }
  topkAbs(x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
    throw new NotImplementedError(`topkAbs (x ${shapeOf(x)}, k ${k})`);
  }
  random(kind: 'uniform' | 'normal', dtype: DType, size: number, _seed: readonly [number, number], _offset: number): BackendStorage {
    throw new NotImplementedError(`random ${kind} (${dtype} ×${size})`);
  }
  adamw(_p: BackendStorage, _g: BackendStorage, _m: BackendStorage, _v: BackendStorage, dtype: DType, size: number, _h: AdamWHyper): void {
    throw new NotImplementedError(`adamw (${dtype} ×${size})`);
  }
  adamwSparse(
    _param: BackendStorage,
    _idx: BackendStorage,
    _values: BackendStorage,
    _g: BackendStorage,
    _m: BackendStorage,
    _v: BackendStorage,
    dtype: DType,
    k: number,
    _h: AdamWHyper,
  ): void {
    throw new NotImplementedError(`adamwSparse (${dtype}, k ${k})`);
  }
}
