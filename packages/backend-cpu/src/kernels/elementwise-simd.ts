import type { BinaryOp, UnaryOp, View } from '@siftjs/tensor';
import type { CpuHeap } from '../heap.js';
import { collapse, forEachRow } from '../strided.js';
import { splitAxes } from './reduce.js';
import { wasmBinaries } from './wasm-binaries.generated.js';

type Geometry = Pick<View, 'shape' | 'strides' | 'offset'>;

/** The exports of wasm/elementwise-f32.wat (byte offsets into the heap, strides in elements). */
export interface ElementwiseKernels {
  binary(op: number, a: number, sa: number, b: number, sb: number, out: number, n: number): void;
  accumulate(acc: number, x: number, n: number): void;
  narrow(out: number, acc: number, n: number): void;
  /** Σ of n contiguous float32 at byte x, in float64. */
  sum(x: number, n: number): number;
  adamw(p: number, g: number, m: number, v: number, n: number, b1: number, c1: number, b2: number, c2: number, decay: number, step: number, bc2: number, eps: number): void;
  /** kernels/sampled-matmul.ts's chunk, the same bits: acc[j] += Σᵢ a[r[j]·c + i]·g[col[j]·c + i] (byte offsets). */
  sampledDots(aBase: number, gBase: number, r: number, col: number, acc: number, k: number, c: number): void;
}

/** The exports of wasm/rows-f32.wat: float64-accurate exp, tanh, gelu (tanh), sigmoid and softmax rows. */
export interface RowsKernels {
  unary(op: number, x: number, out: number, n: number): void;
  softmax(x: number, out: number, rows: number, cols: number, log: number): void;
  softmaxBackward(y: number, dy: number, dx: number, rows: number, cols: number, log: number): void;
}

/** Op codes of rows-f32's `unary`. */
export const SIMD_UNARY_OPS: Partial<Record<UnaryOp, number>> = { exp: 0, tanh: 1, geluTanh: 2, sigmoid: 3, geluTanhGrad: 4 };

/** Op codes of `binary`: the ops whose f32 SIMD result is bitwise the TypeScript kernels' result. */
export const SIMD_BINARY_OPS: Partial<Record<BinaryOp, number>> = { add: 0, sub: 1, mul: 2, div: 3 };

/** Rows shorter than this stay in TypeScript: a call into wasm per row costs more than it saves. */
const MIN_ROW = 16;

/** The kernels over this heap's memory, or null where SIMD or shared memory is missing. */
export function loadElementwise(heap: CpuHeap): ElementwiseKernels | null {
  if (!heap.shared) return null;
  const e = instantiate(heap, 'elementwise-f32') as unknown as ElementwiseKernels | null;
  return e && { binary: e.binary, accumulate: e.accumulate, narrow: e.narrow, sum: e.sum, adamw: e.adamw, sampledDots: e.sampledDots };
}

const compiled = new Map<string, WebAssembly.Module | null>();

/** One of the committed kernel modules, compiled once per process; null where it does not compile. */
export function wasmModule(name: string): WebAssembly.Module | null {
  if (!compiled.has(name)) {
    try {
      compiled.set(name, new WebAssembly.Module(Uint8Array.from(atob(wasmBinaries[name]), (c) => c.charCodeAt(0))));
    } catch {
      compiled.set(name, null);
    }
  }
  return compiled.get(name) ?? null;
}

/** An instance of one of the committed kernel modules over this heap, or null where it does not compile. */
export function instantiate(heap: CpuHeap, name: string, imports: Record<string, unknown> = {}): WebAssembly.Exports | null {
  const module = wasmModule(name);
  if (!module) return null;
  try {
    return new WebAssembly.Instance(module, { env: { memory: heap.memory, ...imports } }).exports;
  } catch {
    return null;
  }
}

/** The transcendental kernels over this heap's memory, or null where SIMD or shared memory is missing. */
export function loadRows(heap: CpuHeap): RowsKernels | null {
  if (!heap.shared) return null;
  const e = instantiate(heap, 'rows-f32', { log: Math.log }) as unknown as RowsKernels | null;
  return e && { unary: e.unary, softmax: e.softmax, softmaxBackward: e.softmaxBackward };
}

/** out (contiguous, fresh) = f(x) for a float32 view whose rows are contiguous; false (nothing done) otherwise. */
export function unarySimd(k: RowsKernels, op: number, x: Float32Array, xg: Geometry, out: Float32Array): boolean {
  const walk = collapse(xg.shape, [xg.strides]);
  const last = walk.shape.length - 1;
  if (walk.strides[0][last] !== 1 || walk.shape[last] < 4) return false;
  const xAt = x.byteOffset;
  let o = out.byteOffset;
  forEachRow(walk, [xg.offset], (off, n) => {
    k.unary(op, xAt + off[0] * 4, o, n);
    o += n * 4;
  });
  return true;
}

/**
 * out (contiguous, fresh) = a op b for float32 views in the heap, where each innermost row reads each operand
 * contiguously or as one broadcast value (the usual cases: same shapes, a scalar, a bias row, a column). Returns
 * false, having done nothing, for other layouts or short rows; the caller then runs the TypeScript kernel, which
 * gives the same bits.
 */
export function binarySimd(k: ElementwiseKernels, op: number, a: Float32Array, ag: Geometry, b: Float32Array, bg: Geometry, out: Float32Array): boolean {
  const walk = collapse(ag.shape, [ag.strides, bg.strides]);
  const last = walk.shape.length - 1;
  const sa = walk.strides[0][last];
  const sb = walk.strides[1][last];
  if ((sa !== 0 && sa !== 1) || (sb !== 0 && sb !== 1) || walk.shape[last] < MIN_ROW) return false;
  const aAt = a.byteOffset;
  const bAt = b.byteOffset;
  let o = out.byteOffset;
  forEachRow(walk, [ag.offset, bg.offset], (off, n) => {
    k.binary(op, aAt + off[0] * 4, sa, bAt + off[1] * 4, sb, o, n);
    o += n * 4;
  });
  return true;
}

/**
 * Sum over axes of a float32 view whose reduced dims form one contiguous run (a loss's total, sums over the last
 * axis): each output is one call of the kernel's `sum`. Float64 in another order than the TypeScript loop (see
 * elementwise-f32.wat). Returns false, having done nothing, otherwise.
 */
export function innerSumSimd(k: ElementwiseKernels, x: Float32Array, g: Geometry, axes: readonly number[], out: Float32Array): boolean {
  const { kept, reduced } = splitAxes(g, axes);
  if (reduced.shape.length !== 1 || reduced.strides[0][0] !== 1 || reduced.shape[0] < MIN_ROW) return false;
  const n = reduced.shape[0];
  const xAt = x.byteOffset;
  const s = kept.strides[0][kept.strides[0].length - 1];
  let o = 0;
  forEachRow(kept, [g.offset], (off, len) => {
    for (let j = 0, base = off[0]; j < len; j++, base += s) out[o++] = k.sum(xAt + base * 4, n);
  });
  return true;
}

/**
 * Sum over axes of a float32 view whose kept dims form one contiguous run (sums over leading or strided axes:
 * bias gradients, broadcast reductions), in float64 and in the TypeScript kernel's order — each output adds
 * its inputs in the row-major order of the reduced dims — so the bits are the same. Returns false otherwise.
 */
export function sumSimd(k: ElementwiseKernels, heap: CpuHeap, x: Float32Array, g: Geometry, axes: readonly number[], out: Float32Array): boolean {
  const { kept, reduced } = splitAxes(g, axes);
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
