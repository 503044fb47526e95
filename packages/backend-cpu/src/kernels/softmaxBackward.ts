import { type BackendStorage, type TypedArray, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import type { WasmKernels } from '../runtime/tiers.js';
import { halfOperands } from './support/half-operands.js';

/**
 * Softmax's backward along rows of `cols` from its output y: dx = y ⊙ (dy − Σ dy⊙y), or for log-softmax
 * dx = dy − exp(y) Σ dy. Tiers: float32 as a row job of wasm/rows-f32.wat over the threads; else TypeScript.
 * Half operands widen to float32 and the result is rounded back (support/half-operands.ts).
 */
export const softmaxBackward = halfOperands(function softmaxBackward(cpu: CpuContext, y: View, dy: View, cols: number, log: boolean): BackendStorage {
  const n = sizeOf(y.shape);
  const out = cpu.make(y.dtype, n);
  const [ys, dys, o] = [cpu.contiguous(y), cpu.contiguous(dy), cpu.array(out)];
  const wasm = cpu.simd.all;
  if (wasm && y.dtype === 'float32' && dy.dtype === 'float32' && cols > 0) {
    cpu.rowJob(wasm, softmaxBackwardJob, [ys.byteOffset, dys.byteOffset, o.byteOffset, cols, log ? 1 : 0], n / cols, cols);
  } else softmaxRowsBackward(ys, dys, o, cols ? n / cols : 0, cols, log);
  return out;
});

/** Row job (threads/row-jobs.ts) over rows: y, dy, dx, cols, log. Self-contained: workers run its source text. */
export function softmaxBackwardJob(k: WasmKernels, a: Float64Array, r0: number, r1: number): void {
  const o = r0 * a[3] * 4;
  k.rows.softmaxBackward(a[0] + o, a[1] + o, a[2] + o, r1 - r0, a[3], a[4]);
}

/** The TypeScript tier, in float64: softmax dx = y(dy − Σ dy·y); log-softmax dx = dy − e^y Σ dy. */
function softmaxRowsBackward(y: TypedArray, dy: TypedArray, dx: TypedArray, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    if (log) {
      for (let j = 0; j < cols; j++) s += dy[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] = dy[o + j] - Math.exp(y[o + j]) * s;
    } else {
      for (let j = 0; j < cols; j++) s += dy[o + j] * y[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] = y[o + j] * (dy[o + j] - s);
    }
  }
}
