import { type DType, opmathDtype } from '@siftjs/tensor';
import { BLOCK_REDUCE, C_TYPE, DTYPE_TAG, type KernelSource, PRELUDE, ROW_BLOCK, ROW_LOOP, floatOnly, loadAs, storeAs } from './common.cu.js';
import type { NormFlags } from './layerNorm.cu.js';

/**
 * dx per row: with x̂ = (x − μ)·rstd and g = dy·w,
 *   layer norm: dx = rstd·(g − mean(g) − x̂·mean(g·x̂));  RMS norm: dx = rstd·(g − x̂·mean(g·x̂)).
 * Half operands (x, dy, w) are widened on load, the statistics read in `opmathDtype(x)` (float beside a half x: the
 * forward's); dx, dweight and dbias are rounded once into x's format.
 */
export function layerNormBackwardKernel(dtype: DType, f: Pick<NormFlags, 'centred' | 'weight'>): KernelSource {
  const T = floatOnly(dtype, 'norm backward');
  const stats = opmathDtype(dtype);
  const S = C_TYPE[stats];
  const name = `${f.centred ? 'layerNorm' : 'rmsNorm'}Backward${f.weight ? '_w' : ''}_${DTYPE_TAG[dtype]}`;
  const dyj = `(double)${loadAs(dtype, 'dy[o + j]')}`;
  const g = f.weight ? `${dyj} * (double)${loadAs(dtype, 'w[j]')}` : dyj;
  const source = `${PRELUDE}${BLOCK_REDUCE}
extern "C" __global__ void ${name}(const ${T}* __restrict__ dy, const ${T}* __restrict__ x, const ${T}* __restrict__ w, const ${S}* __restrict__ mean, const ${S}* __restrict__ rstd, ${T}* __restrict__ dx, i64 rows, i64 cols) {
  __shared__ double sh[${ROW_BLOCK}];
  ${ROW_LOOP} {
    const i64 o = r * cols;
    const double mu = ${f.centred ? `(double)${loadAs(stats, 'mean[r]')}` : '0.0'};
    const double rs = (double)${loadAs(stats, 'rstd[r]')};
    double sg = 0.0, sgx = 0.0;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
      const double xh = ((double)${loadAs(dtype, 'x[o + j]')} - mu) * rs;
      const double g = ${g};
      sg += g;
      sgx += g * xh;
    }
    sg = block_sum(sg, sh);
    sgx = block_sum(sgx, sh);
    const double mg = ${f.centred ? 'sg / (double)cols' : '0.0'};
    const double mgx = sgx / (double)cols;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
      const double xh = ((double)${loadAs(dtype, 'x[o + j]')} - mu) * rs;
      const double g = ${g};
      dx[o + j] = ${storeAs(dtype, '(rs * (g - mg - xh * mgx))')};
    }
  }
}
`;
  return { name, source, options: [] };
}

/** dweight[j] = Σ_rows dy·x̂ and dbias[j] = Σ_rows dy: one thread per column, double accumulation. */
export function layerNormBackwardParamsKernel(dtype: DType, centred: boolean): KernelSource {
  const T = floatOnly(dtype, 'norm parameter gradients');
  const stats = opmathDtype(dtype);
  const S = C_TYPE[stats];
  const name = `${centred ? 'layerNorm' : 'rmsNorm'}Backward_params_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}
extern "C" __global__ void ${name}(const ${T}* __restrict__ dy, const ${T}* __restrict__ x, const ${S}* __restrict__ mean, const ${S}* __restrict__ rstd, ${T}* __restrict__ dw, ${T}* __restrict__ db, i64 rows, i64 cols) {
  for (i64 j = (i64)blockIdx.x * blockDim.x + threadIdx.x; j < cols; j += (i64)gridDim.x * blockDim.x) {
    double sw = 0.0, sb = 0.0;
    for (i64 r = 0; r < rows; r++) {
      const double d = (double)${loadAs(dtype, 'dy[r * cols + j]')};
      const double mu = ${centred ? `(double)${loadAs(stats, 'mean[r]')}` : '0.0'};
      sw += d * ((double)${loadAs(dtype, 'x[r * cols + j]')} - mu) * (double)${loadAs(stats, 'rstd[r]')};
      sb += d;
    }
    if (dw) dw[j] = ${storeAs(dtype, 'sw')};
    if (db) db[j] = ${storeAs(dtype, 'sb')};
  }
}
`;
  return { name, source, options: [] };
}
