import type { DType } from '@siftjs/tensor';
import { DTYPE_TAG, GRID_LOOP, type KernelSource, PRELUDE, floatOnly, loadAs, storeAs } from './common.cu.js';

/**
 * PyTorch's AdamW in double, operation for operation as the CPU backend (kernels/adamw.ts there):
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p·decay − stepSize·m / (√v / bc2 + eps)
 * with decay = 1 − lr·λ, stepSize = lr / (1 − β₁ᵗ), bc2 = √(1 − β₂ᵗ) computed on the host (adamwConstants in
 * @siftjs/tensor).
 * Compiled with --fmad=false: no fused multiply-adds, so each product and sum rounds as in JavaScript and the
 * results can match the CPU's bit for bit. In a half dtype (all four storages, as PyTorch keeps AdamW's state in the
 * parameter's dtype) each value is widened on load and the new ones rounded once on store.
 */

export const ADAMW_OPTIONS = ['--fmad=false'];

export const STEP = `
__device__ __forceinline__ void adamw_step(double& p, double g, double& m, double& v, double beta1, double beta2, double eps, double decay, double stepSize, double bc2) {
  const double mi = beta1 * m + (1.0 - beta1) * g;
  const double vi = beta2 * v + (1.0 - beta2) * g * g;
  m = mi;
  v = vi;
  p = p * decay - (stepSize * mi) / (sqrt(vi) / bc2 + eps);
}
`;

export function adamwKernel(dtype: DType): KernelSource {
  const T = floatOnly(dtype, 'adamw');
  const name = `adamw_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}${STEP}
extern "C" __global__ void ${name}(${T}* __restrict__ p, const ${T}* __restrict__ g, ${T}* __restrict__ m, ${T}* __restrict__ v, i64 n,
    double beta1, double beta2, double eps, double decay, double stepSize, double bc2) {
  ${GRID_LOOP} {
    double pi = (double)${loadAs(dtype, 'p[i]')}, mi = (double)${loadAs(dtype, 'm[i]')}, vi = (double)${loadAs(dtype, 'v[i]')};
    adamw_step(pi, (double)${loadAs(dtype, 'g[i]')}, mi, vi, beta1, beta2, eps, decay, stepSize, bc2);
    m[i] = ${storeAs(dtype, 'mi')};
    v[i] = ${storeAs(dtype, 'vi')};
    p[i] = ${storeAs(dtype, 'pi')};
  }
}
`;
  return { name, source, options: ADAMW_OPTIONS };
}
