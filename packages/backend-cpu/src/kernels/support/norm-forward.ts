import { type NormForward, type TypedArray, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../../runtime/context.js';
import type { WasmKernels } from '../../runtime/tiers.js';
import { NORM_BIAS, NORM_CENTRED, NORM_WEIGHT } from '../wasm/norm-f32.js';

/**
 * Layer norm (`centred`) or RMS norm over rows of `cols` of a contiguous input: kernels/layerNorm.ts and
 * kernels/rmsNorm.ts. Tiers: float32 as a row job of wasm/norm-f32.wat over the threads (float32 lanes, the row
 * sums through float64; its error bounds are in test/norms.ts); everything else in TypeScript, in float64.
 */
export function normForward(cpu: CpuContext, x: View, weight: View | null, bias: View | null, cols: number, eps: number, centred: boolean): NormForward {
  const n = sizeOf(x.shape);
  const rows = cols ? n / cols : 0;
  const y = cpu.make(x.dtype, n);
  const rstd = cpu.make(x.dtype, rows);
  const mean = centred ? cpu.make(x.dtype, rows) : undefined;
  const wasm = cpu.simd.all;
  if (wasm && allFloat32(x, weight, bias) && cols > 0) {
    const at = (v: View | null) => (v ? cpu.contiguous(v).byteOffset : 0);
    const flags = (centred ? NORM_CENTRED : 0) | (weight ? NORM_WEIGHT : 0) | (bias ? NORM_BIAS : 0);
    const [yAt, rAt, mAt] = [cpu.array(y).byteOffset, cpu.array(rstd).byteOffset, mean ? cpu.array(mean).byteOffset : 0];
    cpu.rowJob(wasm, normForwardJob, [at(x), at(weight), at(bias), yAt, mAt, rAt, cols, eps, flags], rows, cols);
    return { y, rstd, mean };
  }
  normRows(
    {
      x: cpu.contiguous(x),
      w: weight ? cpu.contiguous(weight) : null,
      b: bias ? cpu.contiguous(bias) : null,
      y: cpu.array(y),
      mean: mean ? cpu.array(mean) : null,
      rstd: cpu.array(rstd),
    },
    rows,
    cols,
    eps,
  );
  return { y, rstd, mean };
}

/**
 * Row job (threads/row-jobs.ts) over rows: x, w, b, y, mean (0: none), rstd, cols, eps, flags. Self-contained:
 * workers run its source text.
 */
export function normForwardJob(k: WasmKernels, a: Float64Array, r0: number, r1: number): void {
  const o = r0 * a[6] * 4;
  k.norm.normForward(a[0] + o, a[1], a[2], a[3] + o, a[4] && a[4] + r0 * 4, a[5] + r0 * 4, r1 - r0, a[6], a[7], a[8]);
}

/** Whether every given view is float32 (absent ones aside). */
export function allFloat32(...views: (View | null)[]): boolean {
  return views.every((v) => v === null || v.dtype === 'float32');
}

interface NormArrays {
  x: TypedArray;
  w: TypedArray | null;
  b: TypedArray | null;
  y: TypedArray;
  mean: TypedArray | null;
  rstd: TypedArray;
}

/** y = (x − μ)·rstd·w + b with the biased variance (two passes, in float64). `mean` null: RMS norm (μ = 0). */
function normRows(a: NormArrays, rows: number, cols: number, eps: number): void {
  const { x, w, b, y, mean, rstd } = a;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let mu = 0;
    if (mean) {
      for (let j = 0; j < cols; j++) mu += x[o + j];
      mu /= cols;
    }
    let ss = 0;
    for (let j = 0; j < cols; j++) {
      const d = x[o + j] - mu;
      ss += d * d;
    }
    const rs = 1 / Math.sqrt(ss / cols + eps);
    if (mean) mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) {
      let v = (x[o + j] - mu) * rs;
      if (w) v *= w[j];
      if (b) v += b[j];
      y[o + j] = v;
    }
  }
}
