import { type DType, isHalf } from '@siftjs/tensor';
import { DTYPE_TAG, GRID_LOOP, INDEX_ERROR, type KernelSource, PRELUDE, REPORT_INDEX, floatOnly, storeAs } from './common.cu.js';
import { ADAMW_OPTIONS, STEP } from './adamw.cu.js';

/** 1 − βᵗ as −expm1(t·ln β), which keeps its digits when βᵗ is close to 1 (the first steps). */
const ONE_MINUS_POW = `
__device__ __forceinline__ double one_minus_pow(double beta, double t) { return -expm1(t * log(beta)); }
`;

/**
 * SIFT's step (the contract's adamwIncrement): AdamW on the increment δ of k components, then
 * param[idx[i]] = base[i] + δ[i]. With per-component step counts (`steps` non-null) each count is incremented and
 * its own bias correction used. T is the state's type (float32 or float64), P the parameter's, which may be a half
 * format (frozen half weights, SIFT's increment in float): base + δ is summed in double and rounded once into it.
 */
export function adamwIncrementKernel(dtype: DType, paramDtype: DType): KernelSource {
  if (isHalf(dtype)) throw new TypeError(`adamwIncrement: the state is float32 or float64, got ${dtype}`);
  const T = floatOnly(dtype, 'adamw');
  const P = floatOnly(paramDtype, 'adamw');
  const name = `adamwIncrement_${DTYPE_TAG[dtype]}_${DTYPE_TAG[paramDtype]}`;
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
    param[at] = ${storeAs(paramDtype, '((double)base[i] + (double)delta[i])')};
  }
}
`;
  return { name, source, options: ADAMW_OPTIONS };
}
