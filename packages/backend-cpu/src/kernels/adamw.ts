import { type AdamWHyper, type BackendStorage, type DType, type TypedArray, adamwConstants } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import type { WasmKernels } from '../runtime/tiers.js';
import { halfOperands } from './support/half-operands.js';

/**
 * AdamW in place on contiguous float storages of `size` elements (PyTorch's semantics), with the constants of
 * `adamwConstants` (@siftjs/tensor). Tiers: float32 as a row job of wasm/elementwise-f32.wat over the threads — the
 * same float64 arithmetic in SIMD lanes, so the same bits; everything else in TypeScript.
 * Half operands widen to float32 and the result is rounded back (support/half-operands.ts).
 */
export const adamw = halfOperands(function adamw(cpu: CpuContext, p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper): void {
  const arrays = [p, g, m, v].map((s) => cpu.array(s, dtype));
  const wasm = cpu.simd.all;
  if (wasm && dtype === 'float32') {
    const c = adamwConstants(h);
    const [pa, ga, ma, va] = arrays.map((a) => a.byteOffset);
    const args = [pa, ga, ma, va, c.beta1, c.oneMinusBeta1, c.beta2, c.oneMinusBeta2, c.decay, c.stepSize, c.bc2, c.eps];
    cpu.rowJob(wasm, adamwJob, args, size, 1);
    return;
  }
  adamwElements(arrays[0], arrays[1], arrays[2], arrays[3], size, h);
}, { inPlace: [0, 2, 3] });

/**
 * Row job (threads/row-jobs.ts) over elements: p, g, m, v, then β1, 1−β1, β2, 1−β2, decay, step size,
 * √bias correction 2, eps. Self-contained: workers run its source text.
 */
export function adamwJob(k: WasmKernels, a: Float64Array, r0: number, r1: number): void {
  const o = r0 * 4;
  k.elementwise.adamw(a[0] + o, a[1] + o, a[2] + o, a[3] + o, r1 - r0, a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]);
}

/**
 * PyTorch's AdamW, element by element in float64:
 *   p ← p·(1 − lr·λ);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
 *   p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps)
 */
function adamwElements(p: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, n: number, h: AdamWHyper): void {
  const { beta1, beta2, oneMinusBeta1, oneMinusBeta2, eps, decay, stepSize, bc2 } = adamwConstants(h);
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + oneMinusBeta1 * gi;
    const vi = beta2 * v[i] + oneMinusBeta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2 + eps);
  }
}
