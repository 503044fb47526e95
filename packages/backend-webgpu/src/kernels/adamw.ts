/**
 * Backend.adamw (PyTorch's update, as the CPU's kernels/adamw.ts), one invocation per element, in f32:
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p·(1 − lr·λ) − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps)
 * The per-step constants are computed once on the host in float64 (adamwConstants in @siftjs/tensor). The CPU
 * keeps the new m and v in float64 for the parameter update; here they are f32, a difference of an ulp or so.
 * adamwIncrement.ts runs the same step on SIFT's increment. float16 / bfloat16 (all four storages of that dtype,
 * as PyTorch's AdamW keeps the state in the parameter's dtype) are read widened, stepped in f32 and each stored
 * value rounded once.
 */
import { type AdamWConstants, type AdamWHyper, type BackendStorage, type DType, DTypeError, ShapeError, adamwConstants, isHalf } from '@siftjs/tensor';
import type { GpuStorage } from '../memory/storage.js';
import type { GpuRuntime } from '../runtime.js';
import { type Elem, Params, binding, halfFunctions, linearMain, paramBlock, pf, pu } from '../wgsl/common.js';

export function adamw(rt: GpuRuntime, p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper): void {
  const label = `adamw ${dtype} ×${size}`;
  rt.op(label, () => {
    const bufs = optimizerBuffers(rt, label, dtype, size, [['param', p], ['grad', g], ['m', m], ['v', v]], true);
    if (size > 0) rt.launch(label, adamwSource(rt.wg, rt.elem(dtype, label)), adamwParams(size, adamwConstants(h)), bufs, rt.groups(size));
  });
}

/** The adamw kernel's words (ADAMW_WORDS below), the constants computed in float64 by @siftjs/tensor. */
export function adamwParams(n: number, c: AdamWConstants): Params {
  return new Params().u32(n).f32(c.beta1).f32(c.oneMinusBeta1).f32(c.beta2).f32(c.oneMinusBeta2).f32(c.decay).f32(c.stepSize).f32(c.bc2).f32(c.eps);
}

/** The storages' buffers, each checked to be float32 (or, with `half`, float16 / bfloat16 too) and to hold n elements. */
export function optimizerBuffers(rt: GpuRuntime, label: string, dtype: DType, n: number, named: [string, BackendStorage][], half = false): GPUBuffer[] {
  if (dtype !== 'float32' && !(half && isHalf(dtype))) {
    rt.elem(dtype, label);
    throw new DTypeError(`webgpu ${label}: ${half ? 'float32, float16 or bfloat16' : 'float32'} only, got ${dtype}`);
  }
  return named.map(([name, s]) => {
    const b = rt.buf(s, label);
    if ((s as GpuStorage).size < n) throw new ShapeError(`webgpu ${label}: ${name} holds ${(s as GpuStorage).size} elements, fewer than ${n}`);
    return b;
  });
}

/** Words: n, β₁, 1−β₁, β₂, 1−β₂, decay, stepSize, bc2, eps. */
const ADAMW_WORDS = 9;

/** The entry point of the AdamW kernels: element i, within the n of word 0. */
export const adamwMain = (wg: number): string => `${linearMain(wg, 'i')}
    if (i >= ${pu(0)}) { return; }`;

/** The new moments of element i (words 1–4), from the g, m and v bindings' accessors. */
export const MOMENTS = `    let gi = g_at(i);
    let mi = ${pf(1)} * m_at(i) + ${pf(2)} * gi;
    let vi = ${pf(3)} * v_at(i) + ${pf(4)} * gi * gi;`;

function adamwSource(wg: number, elem: Elem): string {
  return `${paramBlock(ADAMW_WORDS)}
${binding(1, 'p', elem, true)}
${binding(2, 'g', elem, false)}
${binding(3, 'm', elem, true)}
${binding(4, 'v', elem, true)}
${halfFunctions(elem)}
${adamwMain(wg)}
${MOMENTS}
    m_set(i, mi);
    v_set(i, vi);
    p_set(i, p_at(i) * ${pf(5)} - (${pf(6)} * mi) / (sqrt(vi) / ${pf(7)} + ${pf(8)}));
}
`;
}
