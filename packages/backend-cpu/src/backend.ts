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
  contiguousStrides,
  philox,
  isContiguous,
  sizeOf,
} from '@siftjs/tensor';
import { CpuHeap } from './heap.js';
import { adamw, adamwIncrement } from './kernels/adamw.js';
import { BINARY_ROWS, UNARY, UNARY_ROWS, binaryFn, converter, copyStrided, mapBinary, mapUnary, mapWhere } from './kernels/elementwise.js';
import {
  type ElementwiseKernels,
  type RowsKernels,
  SIMD_BINARY_OPS,
  SIMD_UNARY_OPS,
  binarySimd,
  loadElementwise,
  loadRows,
  sumSimd,
  wasmModule,
  unarySimd,
  innerSumSimd,
} from './kernels/elementwise-simd.js';
import { checkIndex, elementOffsets, readInts, topkAbs } from './kernels/indexing.js';
import { argReduce, reduce } from './kernels/reduce.js';
import { NORM_BIAS, NORM_CENTRED, NORM_WANT_DB, NORM_WANT_DW, NORM_WANT_DX, NORM_WEIGHT, type NormKernels, loadNorm } from './kernels/norm-simd.js';
import { normRows, normRowsBackward, softmaxRows, softmaxRowsBackward } from './kernels/rows.js';
import { SAMPLED_CHUNK_ROWS, sampledColumns, sampledMatmulChunk, transposeRows } from './kernels/sampled-matmul.js';
import { type MatmulOptions, MatmulRunner } from './matmul-runner.js';
import { ROW_JOB, type WasmKernels, chunkItems, runRowJob } from './threads/row-jobs.js';

/** A block of the heap. `size` in elements of `dtype`. */
export class CpuStorage {
  freed = false;
  constructor(
    readonly offset: number,
    readonly bytes: number,
    readonly dtype: DType,
    readonly size: number,
  ) {}
}

const COMPARE = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or']);

export type CpuBackendOptions = MatmulOptions;

/** Every kernel of the Backend list over one heap laid out for WebAssembly (matmul: see MatmulRunner). */
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly heap = new CpuHeap();
  readonly matmuls: MatmulRunner;
  /** WebAssembly SIMD elementwise kernels (float32 add/sub/mul/div, sums over outer axes); null: TypeScript only. */
  private readonly simd: ElementwiseKernels | null;
  /** WebAssembly SIMD exp, tanh, gelu (tanh), sigmoid and softmax rows in float64 precision; null: TypeScript. */
  private readonly simdRows: RowsKernels | null;
  /** WebAssembly SIMD layer norm and RMS norm, forward and backward (float32); null: TypeScript. */
  private readonly simdNorm: NormKernels | null;
  /** The three sets together, for row jobs (threads/row-jobs.ts) here and in the worker threads. */
  private readonly wasm: WasmKernels | null;

  constructor(opts: CpuBackendOptions = {}) {
    this.simd = opts.simd === false ? null : loadElementwise(this.heap);
    this.simdRows = opts.simd === false ? null : loadRows(this.heap);
    this.simdNorm = opts.simd === false ? null : loadNorm(this.heap);
    this.wasm = this.simd && this.simdRows && this.simdNorm ? { rows: this.simdRows, norm: this.simdNorm, elementwise: this.simd } : null;
    const modules = this.wasm
      ? { rows: wasmModule('rows-f32')!, norm: wasmModule('norm-f32')!, elementwise: wasmModule('elementwise-f32')! }
      : null;
    this.matmuls = new MatmulRunner(this.heap, opts, modules);
  }

  /**
   * Row job `id` over `total` items (rows of `cols`, or elements with cols = 1), split over the worker threads
   * when there is more than one chunk of it. Each item's result depends on its inputs alone: the same bits
   * however it is split.
   */
  private rowJob(wasm: WasmKernels, id: number, args: number[], total: number, cols: number): void {
    const chunk = chunkItems(cols);
    const pool = this.matmuls.workers;
    if (pool && total > chunk) return pool.runRows(id, args, total, chunk, wasm);
    // Chunk by chunk here too: what a job sums per chunk must not depend on whether threads ran it.
    const a = Float64Array.from(args);
    for (let r0 = 0; r0 < total; r0 += chunk) runRowJob(wasm, id, a, r0, Math.min(total, r0 + chunk));
  }

  /** Resolves when the matmul worker threads are running (setBackend awaits it). */
  init(): Promise<void> {
    return this.matmuls.init();
  }

  /** Stops the worker threads (the backend keeps working on one thread). */
  dispose(): Promise<void> {
    return this.matmuls.dispose();
  }

  info(): BackendInfo {
    const { threads, kernels, fma, blas } = this.matmuls;
    const wasmMatmul = kernels === 'wasm-simd' ? `WebAssembly SIMD float32 matmul${fma ? ' (relaxed-SIMD FMA)' : ''}` : 'TypeScript matmul';
    return {
      name: this.name,
      description: `${blas ? `${blas.name} matmul (${blas.path}; ${wasmMatmul} for strided views)` : wasmMatmul}, ${threads} thread${threads > 1 ? 's' : ''}; ${this.simd ? 'WebAssembly SIMD float32 add/sub/mul/div, outer-axis sums, AdamW, ' : ''}${this.simdRows ? 'exp/tanh/gelu/sigmoid and softmax, ' : ''}${this.simdNorm ? 'layer/RMS norm, ' : ''}other kernels TypeScript`,
      kernels,
      fma,
      blas: blas ? { name: blas.name, path: blas.path } : null,
      threads,
      sharedMemory: this.heap.shared,
    };
  }

  // ---------------------------------------------------------------- storage

  private make(dtype: DType, size: number): CpuStorage {
    const bytes = Math.max(1, size * bytesPerElement(dtype));
    return new CpuStorage(this.heap.alloc(bytes), bytes, dtype, size);
  }

  /** The typed array over a storage (taken after allocations: the heap may grow). */
  private arr(s: BackendStorage, dtype?: DType): TypedArray {
    const st = s as CpuStorage;
    if (st.freed) throw new Error('CPU backend: storage used after it was freed');
    return this.heap.view(dtype ?? st.dtype, st.offset, st.size);
  }

  alloc(dtype: DType, size: number): BackendStorage {
    const s = this.make(dtype, size);
    this.arr(s).fill(0);
    return s;
  }

  upload(dtype: DType, data: TypedArray): BackendStorage {
    const s = this.make(dtype, data.length);
    this.arr(s).set(data);
    return s;
  }

  readSync(storage: BackendStorage, dtype: DType, size: number): TypedArray {
    return this.arr(storage, dtype).slice(0, size);
  }

  read(storage: BackendStorage, dtype: DType, size: number): Promise<TypedArray> {
    return Promise.resolve(this.readSync(storage, dtype, size));
  }

  free(storage: BackendStorage): void {
    const s = storage as CpuStorage;
    if (s.freed) throw new Error('CPU backend: storage freed twice');
    s.freed = true;
    this.heap.free(s.offset, s.bytes);
  }

  memoryStats(): BackendMemoryStats {
    const h = this.heap;
    return { bytesInUse: h.bytesInUse, peakBytes: h.peakBytes, bytesReserved: h.bytesReserved, allocations: h.allocations };
  }

  resetPeak(): void {
    this.heap.resetPeak();
  }

  // ---------------------------------------------------------------- layout

  fill(dtype: DType, size: number, value: number): BackendStorage {
    const s = this.make(dtype, size);
    this.arr(s).fill(dtype === 'bool' ? (value ? 1 : 0) : value);
    return s;
  }

  copy(x: View): BackendStorage {
    const out = this.make(x.dtype, sizeOf(x.shape));
    copyStrided(this.arr(x.storage), x, this.arr(out), contiguousGeometry(x.shape));
    return out;
  }

  copyInto(dst: View, src: View): void {
    copyStrided(this.arr(src.storage), src, this.arr(dst.storage), dst, src.dtype === dst.dtype ? undefined : converter(dst.dtype));
  }

  cast(x: View, dtype: DType): BackendStorage {
    const out = this.make(dtype, sizeOf(x.shape));
    copyStrided(this.arr(x.storage), x, this.arr(out), contiguousGeometry(x.shape), converter(dtype));
    return out;
  }

  // ---------------------------------------------------------------- elementwise

  unary(op: UnaryOp, x: View): BackendStorage {
    const outType = op === 'not' || op === 'isnan' ? 'bool' : x.dtype;
    const out = this.make(outType, sizeOf(x.shape));
    const f = x.dtype === 'int32' && op === 'neg' ? (v: number) => -v | 0 : UNARY[op];
    const code = SIMD_UNARY_OPS[op];
    if (this.wasm && code !== undefined && x.dtype === 'float32' && isContiguous(x.shape, x.strides)) {
      const n = sizeOf(x.shape);
      this.rowJob(this.wasm, ROW_JOB.unary, [code, this.arr(x.storage).byteOffset + x.offset * 4, this.arr(out).byteOffset], n, 1);
      return out;
    }
    if (this.simdRows && code !== undefined && x.dtype === 'float32') {
      if (unarySimd(this.simdRows, code, this.arr(x.storage) as Float32Array, x, this.arr(out) as Float32Array)) return out;
    }
    const float = x.dtype === 'float32' || x.dtype === 'float64';
    mapUnary(f, this.arr(x.storage), x, this.arr(out), float ? UNARY_ROWS[op] : undefined);
    return out;
  }

  binary(op: BinaryOp, a: View, b: View): BackendStorage {
    const out = this.make(COMPARE.has(op) ? 'bool' : a.dtype, sizeOf(a.shape));
    const [x, y, o] = [this.arr(a.storage), this.arr(b.storage), this.arr(out)];
    const code = SIMD_BINARY_OPS[op];
    if (this.simd && code !== undefined && a.dtype === 'float32' && b.dtype === 'float32') {
      if (binarySimd(this.simd, code, x as Float32Array, a, y as Float32Array, b, o as Float32Array)) return out;
    }
    const float = a.dtype === 'float32' || a.dtype === 'float64';
    mapBinary(binaryFn(op, a.dtype), x, a, y, b, o, float && !COMPARE.has(op) ? BINARY_ROWS[op] : undefined);
    return out;
  }

  where(cond: View, a: View, b: View): BackendStorage {
    const out = this.make(a.dtype, sizeOf(a.shape));
    mapWhere(this.arr(cond.storage), cond, this.arr(a.storage), a, this.arr(b.storage), b, this.arr(out));
    return out;
  }

  // ---------------------------------------------------------------- reductions

  reduce(op: ReduceOp, x: View, axes: readonly number[]): BackendStorage {
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const dtype = op === 'sum' && (x.dtype === 'int32' || x.dtype === 'bool') ? 'int32' : x.dtype;
    const out = this.make(dtype, sizeOf(kept));
    if (this.simd && op === 'sum' && x.dtype === 'float32') {
      const [xs, o] = [this.arr(x.storage) as Float32Array, this.arr(out) as Float32Array];
      if (innerSumSimd(this.simd, xs, x, axes, o) || sumSimd(this.simd, this.heap, xs, x, axes, o)) return out;
    }
    reduce(op, this.arr(x.storage), x, axes, this.arr(out));
    return out;
  }

  argReduce(op: 'argmax' | 'argmin', x: View, axis: number): BackendStorage {
    const out = this.make('int32', sizeOf(x.shape) / (x.shape[axis] || 1));
    argReduce(op, this.arr(x.storage), x, axis, this.arr(out) as Int32Array);
    return out;
  }

  // ---------------------------------------------------------------- linear algebra

  matmul(a: View, b: View): BackendStorage {
    const r = a.shape.length;
    const out = this.make(a.dtype, sizeOf(a.shape.slice(0, r - 1)) * b.shape[r - 1]);
    this.matmuls.run(this.arr(a.storage), a, this.arr(b.storage), b, this.arr(out));
    return out;
  }

  // ---------------------------------------------------------------- fused rows

  softmax(x: View, cols: number, log: boolean): BackendStorage {
    const n = sizeOf(x.shape);
    const out = this.make(x.dtype, n);
    const [xs, o] = [this.rows(x), this.arr(out)];
    if (this.wasm && x.dtype === 'float32' && cols > 0) this.rowJob(this.wasm, ROW_JOB.softmax, [xs.byteOffset, o.byteOffset, cols, log ? 1 : 0], n / cols, cols);
    else softmaxRows(xs, o, cols ? n / cols : 0, cols, log);
    return out;
  }

  softmaxBackward(y: View, dy: View, cols: number, log: boolean): BackendStorage {
    const n = sizeOf(y.shape);
    const out = this.make(y.dtype, n);
    const [ys, dys, o] = [this.rows(y), this.rows(dy), this.arr(out)];
    if (this.wasm && y.dtype === 'float32' && dy.dtype === 'float32' && cols > 0) {
      this.rowJob(this.wasm, ROW_JOB.softmaxBackward, [ys.byteOffset, dys.byteOffset, o.byteOffset, cols, log ? 1 : 0], n / cols, cols);
    } else softmaxRowsBackward(ys, dys, o, cols ? n / cols : 0, cols, log);
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

  private normForward(x: View, weight: View | null, bias: View | null, cols: number, eps: number, centred: boolean): NormForward {
    const n = sizeOf(x.shape);
    const rows = cols ? n / cols : 0;
    const y = this.make(x.dtype, n);
    const rstd = this.make(x.dtype, rows);
    const mean = centred ? this.make(x.dtype, rows) : undefined;
    if (this.wasm && allFloat32(x, weight, bias) && cols > 0) {
      const at = (v: View | null) => (v ? this.rows(v).byteOffset : 0);
      const flags = (centred ? NORM_CENTRED : 0) | (weight ? NORM_WEIGHT : 0) | (bias ? NORM_BIAS : 0);
      const [yAt, rAt, mAt] = [this.arr(y).byteOffset, this.arr(rstd).byteOffset, mean ? this.arr(mean).byteOffset : 0];
      this.rowJob(this.wasm, ROW_JOB.normForward, [at(x), at(weight), at(bias), yAt, mAt, rAt, cols, eps, flags], rows, cols);
      return { y, rstd, mean };
    }
    normRows(
      {
        x: this.rows(x),
        w: weight ? this.rows(weight) : null,
        b: bias ? this.rows(bias) : null,
        y: this.arr(y),
        mean: mean ? this.arr(mean) : null,
        rstd: this.arr(rstd),
      },
      rows,
      cols,
      eps,
    );
    return { y, rstd, mean };
  }

  private normBackward(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, centred: boolean, wanted: NormGradients): NormBackward {
    const n = sizeOf(x.shape);
    const rows = cols ? n / cols : 0;
    const want = { dx: wanted.input, dw: !!weight && wanted.weight, db: centred && wanted.bias };
    if (!want.dx && !want.dw && !want.db) return { dx: null, dweight: null, dbias: null };
    const dx = want.dx ? this.make(x.dtype, n) : null;
    if (this.wasm && allFloat32(dy, x, weight) && cols > 0) return this.normBackwardSimd(this.wasm, dy, x, weight, stats, cols, centred, want, dx);
    const dw = want.dw ? new Float64Array(cols) : null;
    const db = want.db ? new Float64Array(cols) : null;
    normRowsBackward(
      {
        dy: this.rows(dy),
        x: this.rows(x),
        w: weight ? this.rows(weight) : null,
        mean: centred && stats.mean ? this.arr(stats.mean) : null,
        rstd: this.arr(stats.rstd),
        dx: dx ? this.arr(dx) : null,
        dw,
        db,
      },
      rows,
      cols,
    );
    return {
      dx,
      dweight: dw ? this.upload(x.dtype, toDType(dw, x.dtype)) : null,
      dbias: db ? this.upload(x.dtype, toDType(db, x.dtype)) : null,
    };
  }

  /**
   * normBackward in WebAssembly (float32), as a row job: each chunk of rows sums its float64 weight and bias
   * gradients into a partial in heap scratch, and the partials are added here in chunk order.
   */
  private normBackwardSimd(
    wasm: WasmKernels,
    dy: View,
    x: View,
    weight: View | null,
    stats: NormStats,
    cols: number,
    centred: boolean,
    want: { dx: boolean; dw: boolean; db: boolean },
    dx: BackendStorage | null,
  ): NormBackward {
    const rows = sizeOf(x.shape) / cols;
    const chunk = chunkItems(cols);
    const chunks = Math.ceil(rows / chunk);
    const bytes = chunks * 2 * cols * 8;
    const scratch = this.heap.alloc(bytes);
    try {
      // Allocation may grow the heap (detaching earlier views): every byte offset is taken after it.
      const partials = new Float64Array(this.heap.memory.buffer, scratch, chunks * 2 * cols).fill(0);
      const flags =
        (centred ? NORM_CENTRED : 0) | (weight ? NORM_WEIGHT : 0) | (want.dw ? NORM_WANT_DW : 0) | (want.db ? NORM_WANT_DB : 0) | (want.dx ? NORM_WANT_DX : 0);
      const at = (v: View | null) => (v ? this.rows(v).byteOffset : 0);
      const meanAt = centred && stats.mean ? this.arr(stats.mean).byteOffset : 0;
      const args = [at(dy), at(x), at(weight), meanAt, this.arr(stats.rstd).byteOffset, dx ? this.arr(dx).byteOffset : 0, scratch, cols, flags, chunk];
      this.rowJob(wasm, ROW_JOB.normBackward, args, rows, cols);
      const sum = (which: 0 | 1) => {
        const total = new Float64Array(cols);
        for (let c = 0; c < chunks; c++) {
          const base = (c * 2 + which) * cols;
          for (let j = 0; j < cols; j++) total[j] += partials[base + j];
        }
        return toDType(total, x.dtype);
      };
      return {
        dx,
        dweight: want.dw ? this.upload(x.dtype, sum(0)) : null,
        dbias: want.db ? this.upload(x.dtype, sum(1)) : null,
      };
    } finally {
      this.heap.free(scratch, bytes);
    }
  }

  /** A contiguous view's elements (fused kernels require contiguous input). */
  private rows(v: View): TypedArray {
    const a = this.arr(v.storage);
    return a.subarray(v.offset, v.offset + sizeOf(v.shape));
  }

  // ---------------------------------------------------------------- indexing

  gatherRows(table: View, ids: View): BackendStorage {
    const idx = readInts(this.arr(ids.storage), ids);
    const [v, d] = table.shape;
    const out = this.make(table.dtype, idx.length * d);
    const t = this.arr(table.storage);
    const o = this.arr(out);
    const [rs, cs] = table.strides;
    for (let i = 0; i < idx.length; i++) {
      const id = idx[i];
      checkIndex('embedding', id, v);
      const base = table.offset + id * rs;
      for (let j = 0; j < d; j++) o[i * d + j] = t[base + j * cs];
    }
    return out;
  }

  scatterAddRows(rows: number, ids: View, src: View): BackendStorage {
    const idx = readInts(this.arr(ids.storage), ids);
    const d = src.shape[src.shape.length - 1];
    const out = this.alloc(src.dtype, rows * d);
    const o = this.arr(out);
    const s = this.rows(src);
    for (let i = 0; i < idx.length; i++) {
      const id = idx[i];
      checkIndex('embedding backward', id, rows);
      for (let j = 0; j < d; j++) o[id * d + j] += s[i * d + j];
    }
    return out;
  }

  sampledMatmul(a: View, g: View, idx: View, transposed: boolean): BackendStorage {
    const [m, k] = a.shape;
    const n = g.shape[1];
    const ids = readInts(this.arr(idx.storage), idx);
    const count = ids.length;
    // Heap storages, so the WebAssembly kernel can read them: the columns of each index, the float64 sums.
    const [rowsS, colsS, accS] = [this.make('int32', count), this.make('int32', count), this.make('float64', count)];
    // Typed arrays over the heap are taken after each allocation: a growing heap may replace its buffer.
    const lists = () => [this.arr(rowsS) as Int32Array, this.arr(colsS) as Int32Array, this.arr(accS) as Float64Array] as const;
    const simd = this.simd && a.dtype === 'float32' ? this.simd : null;
    try {
      const [rows0, cols0, acc0] = lists();
      acc0.fill(0);
      sampledColumns(ids, k, n, transposed, rows0, cols0);
      // A chunk of rows at a time, column by column, so that every dot product reads contiguous memory.
      const columns = (v: View, from: number, c: number) => {
        const view = { ...v, shape: [v.shape[1], c], strides: [v.strides[1], v.strides[0]], offset: v.offset + from * v.strides[0] };
        if (v.strides[1] !== 1) return this.copy(view);
        const out = this.make(v.dtype, v.shape[1] * c);
        const into = this.arr(out);
        transposeRows(this.arr(v.storage), view.offset, v.strides[0], c, v.shape[1], into);
        return out;
      };
      for (let from = 0; from < m; from += SAMPLED_CHUNK_ROWS) {
        const c = Math.min(SAMPLED_CHUNK_ROWS, m - from);
        const [aCols, gCols] = [columns(a, from, c), columns(g, from, c)];
        const [ac, gc] = [this.arr(aCols), this.arr(gCols)];
        const [rows, cols, acc] = lists();
        if (simd) simd.sampledDots(ac.byteOffset, gc.byteOffset, rows.byteOffset, cols.byteOffset, acc.byteOffset, count, c);
        else sampledMatmulChunk(ac, gc, rows, cols, c, acc);
        this.free(aCols);
        this.free(gCols);
      }
      const acc = lists()[2];
      return this.upload(a.dtype, a.dtype === 'float64' ? Float64Array.from(acc) : Float32Array.from(acc));
    } finally {
      for (const s of [rowsS, colsS, accS]) this.free(s);
    }
  }

  gatherFlat(x: View, idx: View): BackendStorage {
    const ids = readInts(this.arr(idx.storage), idx);
    const out = this.make(x.dtype, ids.length);
    const n = sizeOf(x.shape);
    const offs = elementOffsets(x);
    const a = this.arr(x.storage);
    const o = this.arr(out);
    for (let i = 0; i < ids.length; i++) {
      checkIndex('gatherFlat', ids[i], n);
      o[i] = offs ? a[offs[ids[i]]] : a[x.offset + ids[i]];
    }
    return out;
  }

  scatterFlat(dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
    const ids = readInts(this.arr(idx.storage), idx);
    const d = this.arr(dst, dtype);
    const s = this.rows(src);
    for (let i = 0; i < ids.length; i++) {
      checkIndex('scatterFlat', ids[i], d.length);
      if (mode === 'add') d[ids[i]] += s[i];
      else d[ids[i]] = s[i];
    }
  }

  topkAbs(x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
    const n = sizeOf(x.shape);
    const flat = new Float64Array(n);
    copyStrided(this.arr(x.storage), x, flat, contiguousGeometry(x.shape));
    const idx = topkAbs(flat, k);
    const values = this.make(x.dtype, k);
    const v = this.arr(values);
    for (let i = 0; i < k; i++) v[i] = flat[idx[i]];
    return { values, indices: this.upload('int32', idx) };
  }

  // ---------------------------------------------------------------- random

  random(kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number): BackendStorage {
    const out = this.make(dtype, size);
    const a = this.arr(out);
    const [lo, hi] = seed;
    if (dtype === 'float64') {
      if (kind === 'uniform') philox.fillUniformF64(a as Float64Array, lo, hi, offset);
      else philox.fillNormalF64(a as Float64Array, lo, hi, offset);
    } else if (dtype === 'float32') {
      if (kind === 'uniform') philox.fillUniformF32(a as Float32Array, lo, hi, offset);
      else philox.fillNormalF32(a as Float32Array, lo, hi, offset);
    } else {
      throw new Error(`CPU random: dtype ${dtype} is not a float type`);
    }
    return out;
  }

  // ---------------------------------------------------------------- optimizer

  adamw(p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper): void {
    const arrays = [p, g, m, v].map((s) => this.arr(s, dtype));
    if (this.wasm && dtype === 'float32') {
      // The same float64 arithmetic in WebAssembly SIMD lanes: the same bits.
      const { decay, stepSize, bc2 } = adamwConstants(h);
      const [pa, ga, ma, va] = arrays.map((a) => a.byteOffset);
      const args = [pa, ga, ma, va, h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2, decay, stepSize, bc2, h.eps];
      this.rowJob(this.wasm, ROW_JOB.adamw, args, size, 1);
      return;
    }
    adamw(arrays[0], arrays[1], arrays[2], arrays[3], size, h);
  }

  adamwIncrement(a: AdamWIncrementArgs): void {
    const f = (s: BackendStorage) => this.arr(s, a.dtype);
    const idx = this.arr(a.indices, 'int32') as Int32Array;
    adamwIncrement(a, this.arr(a.param, a.paramDtype), idx, f(a.base), f(a.delta), f(a.grad), f(a.m), f(a.v), a.steps ? f(a.steps) : null);
  }
}

function contiguousGeometry(shape: readonly number[]) {
  return { shape, strides: contiguousStrides(shape), offset: 0 };
}

function toDType(a: Float64Array, dtype: DType): TypedArray {
  return dtype === 'float64' ? a : Float32Array.from(a);
}

/** Whether every given view is float32 (absent ones aside). */
function allFloat32(...views: (View | null)[]): boolean {
  return views.every((v) => v === null || v.dtype === 'float32');
}
