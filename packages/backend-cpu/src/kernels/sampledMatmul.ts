import { type BackendStorage, SAMPLED_CHUNK_ROWS, type TypedArray, type View } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import type { WasmKernels } from '../runtime/tiers.js';
import { copy } from './copy.js';
import { checkIndex, readInts } from './support/indices.js';
import { halfOperands } from './support/half-operands.js';

/**
 * SIFT's weight-gradient components without the dense product: for a [M, K], g [M, N] and int32 idx [k],
 * out[j] = Σₘ a[m, r]·g[m, c] at (r, c) of idx[j] (see sampledColumns). Rows are taken SAMPLED_CHUNK_ROWS at a time,
 * laid out column by column, and every index's dot product summed in float64: by wasm/elementwise-f32.wat's
 * sampledDots for float32, in TypeScript otherwise (the same bits).
 * Half operands widen to float32 and the result is rounded back (support/half-operands.ts).
 */
export const sampledMatmul = halfOperands(function sampledMatmul(cpu: CpuContext, a: View, g: View, idx: View, transposed: boolean): BackendStorage {
  const [m, k] = a.shape;
  const n = g.shape[1];
  const ids = readInts(cpu.array(idx.storage), idx);
  const count = ids.length;
  // Heap storages, so the WebAssembly kernel can read them: the columns of each index, the float64 sums.
  const [rowsS, colsS, accS] = [cpu.make('int32', count), cpu.make('int32', count), cpu.make('float64', count)];
  // Typed arrays over the heap are taken after each allocation: a growing heap may replace its buffer.
  const lists = () => [cpu.array(rowsS) as Int32Array, cpu.array(colsS) as Int32Array, cpu.array(accS) as Float64Array] as const;
  const simd = cpu.simd.elementwise && a.dtype === 'float32' ? cpu.simd.elementwise : null;
  const wasm = cpu.simd.all;
  try {
    const [rows0, cols0, acc0] = lists();
    acc0.fill(0);
    sampledColumns(ids, k, n, transposed, rows0, cols0);
    // A chunk of rows at a time, column by column, so that every dot product reads contiguous memory.
    const columns = (v: View, from: number, c: number) => {
      const view = { ...v, shape: [v.shape[1], c], strides: [v.strides[1], v.strides[0]], offset: v.offset + from * v.strides[0] };
      if (v.strides[1] !== 1) return copy(cpu, view);
      const out = cpu.make(v.dtype, v.shape[1] * c);
      const into = cpu.array(out);
      transposeRows(cpu.array(v.storage), view.offset, v.strides[0], c, v.shape[1], into);
      return out;
    };
    for (let from = 0; from < m; from += SAMPLED_CHUNK_ROWS) {
      const c = Math.min(SAMPLED_CHUNK_ROWS, m - from);
      const [aCols, gCols] = [columns(a, from, c), columns(g, from, c)];
      const [ac, gc] = [cpu.array(aCols), cpu.array(gCols)];
      const [rows, cols, acc] = lists();
      // Each index's sum is its own: split over the threads, the bits do not depend on how (a row job of c-long dots).
      if (simd && wasm) cpu.rowJob(wasm, sampledDotsJob, [ac.byteOffset, gc.byteOffset, rows.byteOffset, cols.byteOffset, acc.byteOffset, c], count, c);
      else if (simd) simd.sampledDots(ac.byteOffset, gc.byteOffset, rows.byteOffset, cols.byteOffset, acc.byteOffset, count, c);
      else sampledMatmulChunk(ac, gc, rows, cols, c, acc);
      cpu.free(aCols);
      cpu.free(gCols);
    }
    const acc = lists()[2];
    return cpu.upload(a.dtype, a.dtype === 'float64' ? Float64Array.from(acc) : Float32Array.from(acc));
  } finally {
    for (const s of [rowsS, colsS, accS]) cpu.free(s);
  }
});

/**
 * Row job (threads/row-jobs.ts) over indices: aCols, gCols, rows, cols, acc (heap byte offsets), c. Indices
 * [r0, r1) add this chunk's dot products into their own float64 sums. Self-contained: workers run its source text.
 */
export function sampledDotsJob(k: WasmKernels, a: Float64Array, r0: number, r1: number): void {
  k.elementwise.sampledDots(a[0], a[1], a[2] + r0 * 4, a[3] + r0 * 4, a[4] + r0 * 8, r1 - r0, a[5]);
}

/**
 * Accumulates SIFT's weight-gradient components for one chunk of rows (the contract's sampledMatmul): entry j is
 * the dot product of column rows[j] of A with column cols[j] of G. The caller lays the chunk out column by column
 * (`aCols` [K, c], `gCols` [N, c], contiguous) so that each dot reads two contiguous runs; even and odd terms are
 * summed apart in float64 and added last (wasm/elementwise-f32.wat's sampledDots does the same, bit for bit).
 */
function sampledMatmulChunk(aCols: TypedArray, gCols: TypedArray, rows: Int32Array, cols: Int32Array, c: number, acc: Float64Array): void {
  for (let j = 0; j < rows.length; j++) {
    let ai = rows[j] * c;
    let gi = cols[j] * c;
    let s0 = 0;
    let s1 = 0;
    let i = 0;
    for (; i + 1 < c; i += 2, ai += 2, gi += 2) {
      s0 += aCols[ai] * gCols[gi];
      s1 += aCols[ai + 1] * gCols[gi + 1];
    }
    if (i < c) s0 += aCols[ai] * gCols[gi];
    acc[j] += s0 + s1;
  }
}

/**
 * The column of A and of G behind each index: f is (f / N, f % N) of the [K, N] product Aᵀ·G, or (f % K, f / K) when
 * the weight is stored transposed [N, K]. Checks every index first.
 */
function sampledColumns(ids: ArrayLike<number>, k: number, n: number, transposed: boolean, rows: Int32Array, cols: Int32Array): void {
  for (let j = 0; j < ids.length; j++) checkIndex('sampledMatmul', ids[j], k * n);
  for (let j = 0; j < ids.length; j++) {
    const f = ids[j];
    rows[j] = transposed ? f % k : Math.floor(f / n);
    cols[j] = transposed ? Math.floor(f / k) : f % n;
  }
}

/** out[i·rows + r] = x[offset + r·stride + i] for r < rows, i < cols: a chunk of row-contiguous rows, column by column. */
function transposeRows(x: TypedArray, offset: number, stride: number, rows: number, cols: number, out: TypedArray): void {
  for (let r = 0; r < rows; r++) {
    const from = offset + r * stride;
    for (let i = 0, o = r; i < cols; i++, o += rows) out[o] = x[from + i];
  }
}
