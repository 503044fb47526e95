import { type BackendStorage, type TypedArray, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import type { WasmKernels } from '../runtime/tiers.js';
import { halfOperands } from './support/half-operands.js';

/**
 * Softmax (or log-softmax) over rows of `cols` of a contiguous input. Tiers: float32 as a row job of
 * wasm/rows-f32.wat over the threads (float32 lanes, the row sum in float64 blocks; its error bound is in
 * test/softmax.test.ts); everything else in TypeScript, in float64.
 * Half operands widen to float32 and the result is rounded back (support/half-operands.ts).
 */
export const softmax = halfOperands(function softmax(cpu: CpuContext, x: View, cols: number, log: boolean): BackendStorage {
  const n = sizeOf(x.shape);
  const out = cpu.make(x.dtype, n);
  const [xs, o] = [cpu.contiguous(x), cpu.array(out)];
  const wasm = cpu.simd.all;
  if (wasm && x.dtype === 'float32' && cols > 0) cpu.rowJob(wasm, softmaxJob, [xs.byteOffset, o.byteOffset, cols, log ? 1 : 0], n / cols, cols);
  else softmaxRows(xs, o, cols ? n / cols : 0, cols, log);
  return out;
});

/** Row job (threads/row-jobs.ts) over rows: x, out, cols, log. Self-contained: workers run its source text. */
export function softmaxJob(k: WasmKernels, a: Float64Array, r0: number, r1: number): void {
  const o = r0 * a[2] * 4;
  k.rows.softmax(a[0] + o, a[1] + o, r1 - r0, a[2], a[3]);
}

/** The TypeScript tier, in float64. */
function softmaxRows(x: TypedArray, out: TypedArray, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[o + j] > max || x[o + j] !== x[o + j]) max = x[o + j];
    if (max === -Infinity) max = 0; // a row of -inf: exp gives zeros, sum 0, result NaN as in torch
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[o + j] - max);
    if (log) {
      const lse = max + Math.log(sum);
      for (let j = 0; j < cols; j++) out[o + j] = x[o + j] - lse;
    } else {
      const inv = 1 / sum;
      for (let j = 0; j < cols; j++) out[o + j] = Math.exp(x[o + j] - max) * inv;
    }
  }
}
