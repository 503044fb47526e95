import type { ElementwiseKernels } from '../kernels/wasm/elementwise-f32.js';
import type { HalfKernels } from '../kernels/wasm/half-f32.js';
import type { NormKernels } from '../kernels/wasm/norm-f32.js';
import type { RowsKernels } from '../kernels/wasm/rows-f32.js';
import type { CpuHeap } from './heap.js';
import { instantiate, wasmModule } from './wasm-modules.js';

/** The row and elementwise kernels' compiled modules, which worker threads instantiate over the same memory. */
export interface RowModules {
  rows: WebAssembly.Module;
  norm: WebAssembly.Module;
  elementwise: WebAssembly.Module;
}

/**
 * The dispatch tiers of the CPU kernels other than matmul (runtime/matmul-runner.ts has its own): each kernel runs
 * its WebAssembly SIMD code where the set it needs loaded here, its TypeScript code otherwise. A set is null where
 * SIMD or shared memory is missing (a page without cross-origin isolation), or when SIMD is turned off.
 */
export interface SimdTiers {
  /** float32 add/sub/mul/div, sums over axes, AdamW, sampledMatmul's dots (kernels/wasm/elementwise-f32.wat). */
  elementwise: ElementwiseKernels | null;
  /** exp, tanh, both gelus and their derivatives, sigmoid, erf and softmax rows in float32 lanes (kernels/wasm/rows-f32.wat). */
  rows: RowsKernels | null;
  /** layer norm and RMS norm, forward and backward (kernels/wasm/norm-f32.wat). */
  norm: NormKernels | null;
  /** float16 / bfloat16 ↔ float32 runs (kernels/wasm/half-f32.wat), on this thread. */
  half: HalfKernels | null;
  /** The three together, for row jobs (threads/row-jobs.ts) on this thread and on the worker threads. */
  all: WasmKernels | null;
}

/** The kernel instances one thread calls for row jobs (each thread has its own instances over the shared heap). */
export interface WasmKernels {
  rows: RowsKernels;
  norm: NormKernels;
  elementwise: ElementwiseKernels;
}

/** The SIMD sets over this heap (`enabled` false: none, every kernel on its TypeScript tier). */
export function loadTiers(heap: CpuHeap, enabled: boolean): SimdTiers {
  const elementwise = enabled ? loadElementwise(heap) : null;
  const rows = enabled ? loadRows(heap) : null;
  const norm = enabled ? loadNorm(heap) : null;
  const half = enabled ? loadHalf(heap) : null;
  return { elementwise, rows, norm, half, all: elementwise && rows && norm ? { rows, norm, elementwise } : null };
}

/** The compiled modules behind `all`, which each worker thread instantiates again. */
export function rowModules(): RowModules {
  return { rows: wasmModule('rows-f32')!, norm: wasmModule('norm-f32')!, elementwise: wasmModule('elementwise-f32')! };
}

function loadElementwise(heap: CpuHeap): ElementwiseKernels | null {
  if (!heap.shared) return null;
  const e = instantiate(heap, 'elementwise-f32') as unknown as ElementwiseKernels | null;
  return e && { binary: e.binary, accumulate: e.accumulate, narrow: e.narrow, sum: e.sum, sumTo: e.sumTo, adamw: e.adamw, sampledDots: e.sampledDots, copy32: e.copy32 };
}

function loadRows(heap: CpuHeap): RowsKernels | null {
  if (!heap.shared) return null;
  const e = instantiate(heap, 'rows-f32', { log: Math.log }) as unknown as RowsKernels | null;
  return e && { unary: e.unary, softmax: e.softmax, softmaxBackward: e.softmaxBackward };
}

function loadNorm(heap: CpuHeap): NormKernels | null {
  if (!heap.shared) return null;
  const e = instantiate(heap, 'norm-f32') as unknown as NormKernels | null;
  return e && { normForward: e.normForward, normBackward: e.normBackward };
}

function loadHalf(heap: CpuHeap): HalfKernels | null {
  if (!heap.shared) return null;
  const e = instantiate(heap, 'half-f32') as unknown as HalfKernels | null;
  return e && { widenBf16: e.widenBf16, narrowBf16: e.narrowBf16, widenF16: e.widenF16, narrowF16: e.narrowF16 };
}
