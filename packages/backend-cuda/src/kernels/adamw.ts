import type { DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, GRID_LOOP, type KernelSource, PRELUDE } from './common.js';
import { INDEX_ERROR, REPORT_INDEX } from './indexing.js';

/**
 * PyTorch's AdamW in double, operation for operation as the CPU backend (kernels/adamw.ts there):
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p·decay − stepSize·m / (√v / bc2 + eps)
 * with decay = 1 − lr·λ, stepSize = lr / (1 − β₁ᵗ), bc2 = √(1 − β₂ᵗ) computed on the host (adamwConstants in
 * @siftjs/tensor).
 * Compiled with --fmad=false: no fused multiply-adds, so each product and sum rounds as in JavaScript and the
 * results can match the CPU's bit for bit.
 */

export const ADAMW_OPTIONS = ['--fmad=false'];

const STEP = `
__device__ __forceinline__ void adamw_step(double& p, double g, double& m, double& v, double beta1, double beta2, double eps, double decay, double stepSize, double bc2) {
  const double mi = beta1 * m + (1.0 - beta1) * g;
  const double vi = beta2 * v + (1.0 - beta2) * g * g;
  m = mi;
  v = vi;
  p = p * decay - (stepSize * mi) / (sqrt(vi) / bc2 + eps);
}
`;

function floatType(dtype: DType): string {
  if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`adamw: float dtypes only, got ${dtype}`);
  return C_TYPE[dtype];
}

export function adamwKernel(dtype: DType): KernelSource {
  const T = floatType(dtype);
  const name = `adamw_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}${STEP}
extern "C" __global__ void ${name}(${T}* __restrict__ p, const ${T}* __restrict__ g, ${T}* __restrict__ m, ${T}* __restrict__ v, i64 n,
    double beta1, double beta2, double eps, double decay, double stepSize, double bc2) {
  ${GRID_LOOP} {
    double pi = (double)p[i], mi = (double)m[i], vi = (double)v[i];
    adamw_step(pi, (double)g[i], mi, vi, beta1, beta2, eps, decay, stepSize, bc2);
    m[i] = (${T})mi;
    v[i] = (${T})vi;
    p[i] = (${T})pi;
  }
}
`;
  return { name, source, options: ADAMW_OPTIONS };
}

/** 1 − βᵗ as −expm1(t·ln β), which keeps its digits when βᵗ is close to 1 (the first steps). */
const ONE_MINUS_POW = `
__device__ __forceinline__ double one_minus_pow(double beta, double t) { return -expm1(t * log(beta)); }
`;

/**
 * SIFT's step (the contract's adamwIncrement): AdamW on the increment δ of k components, then
 * param[idx[i]] = base[i] + δ[i]. With per-component step counts (`steps` non-null) each count is incremented and
 * its own bias correction used. T is the state's type, P the parameter's.
 */
export function adamwIncrementKernel(dtype: DType, paramDtype: DType): KernelSource {
  const T = floatType(dtype);
  const P = floatType(paramDtype);
  const name = `adamw_increment_${DTYPE_TAG[dtype]}_${DTYPE_TAG[paramDtype]}`;
  const source = `${PRELUDE}${REPORT_INDEX}${STEP}${ONE_MINUS_POW}
extern "C" __global__ void ${name}(${P}* __restrict__ param, const int* __restrict__ idx, const ${T}* __restrict__ base, ${T}* __restrict__ delta,
    const ${T}* __restrict__ g, ${T}* __restrict__ m, ${T}* __restrict__ v, ${T}* __restrict__ steps, i64 n, i64 size,
    double lr, double beta1, double beta2, double eps, double decay, double stepSize, double bc2, int* err) {
  ${GRID_LOOP} {
    const int at = idx[i];
    if (at < 0 || (i64)at >= size) {
      report_index(err, ${INDEX_ERROR.adamwIncrement}, at, size);
      continue;
    }
    double ss = stepSize, b2 = bc2;
    if (steps) {
      const double t = (double)steps[i] + 1.0;
      steps[i] = (${T})t;
      ss = lr / one_minus_pow(beta1, t);
      b2 = sqrt(one_minus_pow(beta2, t));
    }
    double di = (double)delta[i], mi = (double)m[i], vi = (double)v[i];
    adamw_step(di, (double)g[i], mi, vi, beta1, beta2, eps, decay, ss, b2);
    m[i] = (${T})mi;
    v[i] = (${T})vi;
    delta[i] = (${T})di;
    param[at] = (${P})((double)base[i] + (double)delta[i]);
  }
}
`;
  return { name, source, options: ADAMW_OPTIONS };
}
