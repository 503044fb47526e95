import { type DType, opmathDtype } from '@siftjs/tensor';
import { BLOCK_REDUCE, C_TYPE, DTYPE_TAG, type KernelSource, PRELUDE, ROW_BLOCK, ROW_LOOP, floatOnly, loadAs, storeAs } from './common.cu.js';

/**
 * Layer norm and RMS norm forward (RMS norm is this kernel without the centring and bias): one block per row
 * of contiguous [rows, cols], in double as the CPU does; a half x, w, b widened on load, y rounded once into x's
 * format and the statistics once into `opmathDtype(x)` — float for a half x, as the contract keeps them.
 */

export interface NormFlags {
  /** Layer norm (subtract the mean) or RMS norm. */
  centred: boolean;
  weight: boolean;
  bias: boolean;
}

function normTag(f: NormFlags): string {
  return `${f.centred ? 'layerNorm' : 'rmsNorm'}${f.weight ? '_w' : ''}${f.bias ? '_b' : ''}`;
}

/** y = (x − μ)·rstd·w + b, biased variance, two passes in double; writes mean (layer norm) and rstd per row. */
export function layerNormKernel(dtype: DType, f: NormFlags): KernelSource {
  const T = floatOnly(dtype, 'norm');
  const stats = opmathDtype(dtype);
  const S = C_TYPE[stats];
  const name = `${normTag(f)}_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}${BLOCK_REDUCE}
extern "C" __global__ void ${name}(const ${T}* __restrict__ x, const ${T}* __restrict__ w, const ${T}* __restrict__ b, ${T}* __restrict__ y, ${S}* __restrict__ mean, ${S}* __restrict__ rstd, i64 rows, i64 cols, double eps) {
  __shared__ double sh[${ROW_BLOCK}];
  ${ROW_LOOP} {
    const i64 o = r * cols;
    double mu = 0.0;
${
  f.centred
    ? `    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) mu += (double)${loadAs(dtype, 'x[o + j]')};
    mu = block_sum(mu, sh) / (double)cols;`
    : ''
}
    double ss = 0.0;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
      const double d = (double)${loadAs(dtype, 'x[o + j]')} - mu;
      ss += d * d;
    }
    ss = block_sum(ss, sh);
    const double rs = 1.0 / sqrt(ss / (double)cols + eps);
    if (threadIdx.x == 0) {
      ${f.centred ? `mean[r] = ${storeAs(stats, 'mu')};` : ''}
      rstd[r] = ${storeAs(stats, 'rs')};
    }
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
      double v = ((double)${loadAs(dtype, 'x[o + j]')} - mu) * rs;
      ${f.weight ? `v *= (double)${loadAs(dtype, 'w[j]')};` : ''}
      ${f.bias ? `v += (double)${loadAs(dtype, 'b[j]')};` : ''}
      y[o + j] = ${storeAs(dtype, 'v')};
    }
  }
}
`;
  return { name, source, options: [] };
}
