import { type BackendStorage, type ReduceOp, type TypedArray, type View, sizeOf, splitAxes } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import type { CpuHeap } from '../runtime/heap.js';
import type { WasmKernels } from '../runtime/tiers.js';
import { STREAM_ITEM, chunkItems } from '../threads/chunks.js';
import { forEachOutput } from './support/axes.js';
import { type Geometry, forEachRow } from './support/strided.js';
import { type ElementwiseKernels, MIN_ROW } from './wasm/elementwise-f32.js';
import { halfOperands } from './support/half-operands.js';

/**
 * Reduces over `axes`, keeping them as size-1 dims; sums of int32/bool give int32. Tiers: float32 sums by
 * wasm/elementwise-f32.wat where the reduced (or the kept) dims form one contiguous run; everything else, and max
 * and min, in TypeScript.
 * Half operands widen to float32 and the result is rounded back (support/half-operands.ts).
 */
export const reduce = halfOperands(function reduce(cpu: CpuContext, op: ReduceOp, x: View, axes: readonly number[]): BackendStorage {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const dtype = op === 'sum' && (x.dtype === 'int32' || x.dtype === 'bool') ? 'int32' : x.dtype;
  const out = cpu.make(dtype, sizeOf(kept));
  const simd = cpu.simd.elementwise;
  if (simd && op === 'sum' && x.dtype === 'float32') {
    const [xs, o] = [cpu.array(x.storage) as Float32Array, cpu.array(out) as Float32Array];
    if (innerSumSimd(cpu, simd, xs, x, axes, o) || sumSimd(simd, cpu.heap, xs, x, axes, o)) return out;
  }
  reduceStrided(op, cpu.array(x.storage), x, axes, cpu.array(out));
  return out;
});

/** Sums in float64 (JS numbers) whatever the storage type; max/min propagate NaN as PyTorch does. */
function reduceStrided(op: ReduceOp, x: TypedArray, g: Geometry, axes: readonly number[], out: TypedArray): void {
  const { kept, reduced } = splitAxes(g.shape, g.strides, axes);
  const single = reduced.shape.length === 1;
  const n1 = reduced.shape[0];
  const s1 = reduced.strides[0][0];
  const init = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
  const combine =
    op === 'sum'
      ? (acc: number, v: number) => acc + v
      : op === 'max'
        ? (acc: number, v: number) => (v > acc || v !== v ? v : acc)
        : (acc: number, v: number) => (v < acc || v !== v ? v : acc);
  forEachOutput(kept, g.offset, (base, o) => {
    let acc = init;
    if (single) {
      if (op === 'sum') for (let j = 0, i = base; j < n1; j++, i += s1) acc += x[i];
      else for (let j = 0, i = base; j < n1 && acc === acc; j++, i += s1) acc = combine(acc, x[i]);
    } else {
      const rs = reduced.strides[0][reduced.strides[0].length - 1];
      forEachRow(reduced, [base], (off, n) => {
        for (let j = 0, i = off[0]; j < n; j++, i += rs) acc = combine(acc, x[i]);
      });
    }
    out[o] = acc;
  });
}

/**
 * Sum over axes of a float32 view whose reduced dims form one contiguous run (a loss's total, sums over the last
 * axis): each output is one call of the kernel's `sum`, or — for runs longer than a chunk of a row job — the sums of
 * fixed chunks (threads/chunks.ts) over the threads, added in chunk order: the same bits whatever the thread count.
 * Float64 in another order than the TypeScript loop (see elementwise-f32.wat). Returns false, having done nothing,
 * otherwise.
 */
function innerSumSimd(cpu: CpuContext, k: ElementwiseKernels, x: Float32Array, g: Geometry, axes: readonly number[], out: Float32Array): boolean {
  const { kept, reduced } = splitAxes(g.shape, g.strides, axes);
  if (reduced.shape.length !== 1 || reduced.strides[0][0] !== 1 || reduced.shape[0] < MIN_ROW) return false;
  const n = reduced.shape[0];
  const xAt = x.byteOffset;
  const outAt = out.byteOffset;
  const s = kept.strides[0][kept.strides[0].length - 1];
  const sums: number[] = [];
  forEachRow(kept, [g.offset], (off, len) => {
    for (let j = 0, base = off[0]; j < len; j++, base += s) sums.push(n > chunkItems(1) * STREAM_ITEM && cpu.simd.all ? longSum(cpu, xAt + base * 4, n) : k.sum(xAt + base * 4, n));
  });
  // The heap may have grown for a long sum's partials: write through a fresh view.
  new Float32Array(cpu.heap.memory.buffer, outAt, sums.length).set(sums);
  return true;
}

/** Σ of n float32 at byte xAt: fixed chunks summed over the threads into float64 partials, added in chunk order. */
function longSum(cpu: CpuContext, xAt: number, n: number): number {
  const items = Math.ceil(n / STREAM_ITEM);
  const chunk = chunkItems(1);
  const chunks = Math.ceil(items / chunk);
  const partials = cpu.heap.alloc(chunks * 8);
  try {
    cpu.rowJob(cpu.simd.all!, sumJob, [xAt, partials, chunk, n], items, 1);
    const p = new Float64Array(cpu.heap.memory.buffer, partials, chunks);
    let total = 0;
    for (let c = 0; c < chunks; c++) total += p[c];
    return total;
  } finally {
    cpu.heap.free(partials, chunks * 8);
  }
}

/**
 * Row job (threads/row-jobs.ts) over items of 8 elements (threads/chunks.ts, STREAM_ITEM): x, partials, the chunk in
 * items, n. Chunk c stores its sum as the float64 at partials + 8c. Self-contained: workers run its source text.
 */
export function sumJob(k: WasmKernels, a: Float64Array, r0: number, r1: number): void {
  const [e0, e1] = [r0 * 8, Math.min(a[3], r1 * 8)];
  k.elementwise.sumTo(a[0] + e0 * 4, e1 - e0, a[1] + Math.floor(r0 / a[2]) * 8);
}

/**
 * Sum over axes of a float32 view whose kept dims form one contiguous run (sums over leading or strided axes:
 * bias gradients, broadcast reductions), in float64 and in the TypeScript kernel's order — each output adds
 * its inputs in the row-major order of the reduced dims — so the bits are the same. Returns false otherwise.
 */
function sumSimd(k: ElementwiseKernels, heap: CpuHeap, x: Float32Array, g: Geometry, axes: readonly number[], out: Float32Array): boolean {
  const { kept, reduced } = splitAxes(g.shape, g.strides, axes);
  if (kept.shape.length !== 1 || kept.strides[0][0] !== 1 || kept.shape[0] < MIN_ROW) return false;
  const n = kept.shape[0];
  const xAt = x.byteOffset;
  const outAt = out.byteOffset;
  // Views may be detached once the heap grows for the scratch: only byte offsets are used from here on.
  const acc = heap.alloc(n * 8);
  try {
    new Float64Array(heap.memory.buffer, acc, n).fill(0);
    const rs = reduced.strides[0][reduced.strides[0].length - 1];
    forEachRow(reduced, [g.offset], (off, len) => {
      for (let j = 0, i = off[0]; j < len; j++, i += rs) k.accumulate(acc, xAt + i * 4, n);
    });
    k.narrow(outAt, acc, n);
  } finally {
    heap.free(acc, n * 8);
  }
  return true;
}
