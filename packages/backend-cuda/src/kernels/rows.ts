import type { DType } from '@siftjs/tensor';
import { BLOCK_REDUCE, C_TYPE, DTYPE_TAG, type KernelSource, PRELUDE } from './common.js';

/**
 * Fused row kernels over contiguous [rows, cols] data, one block per row (a grid-stride loop over rows by
 * block), accumulating in double as the CPU does: softmax / log-softmax forward and backward, layer norm and
 * RMS norm forward and backward (dx per row; dweight / dbias as column sums in a second kernel), and
 * cross-entropy with int32 targets (loss per row, and its gradient softmax − onehot).
 */

export const ROW_BLOCK = 256;

function floatOnly(dtype: DType, what: string): string {
  if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`${what}: float dtypes only, got ${dtype}`);
  return C_TYPE[dtype];
}

const ROW_LOOP = 'for (i64 r = blockIdx.x; r < rows; r += gridDim.x)';

export function softmaxKernel(dtype: DType, log: boolean): KernelSource {
  const T = floatOnly(dtype, 'softmax');
  const name = `${log ? 'log_softmax' : 'softmax'}_${DTYPE_TAG[dtype]}`;
  const write = log
    ? `const double lse = mx + log(sum);
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) y[o + j] = (${T})((double)x[o + j] - lse);`
    : `const double inv = 1.0 / sum;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) y[o + j] = (${T})(exp((double)x[o + j] - mx) * inv);`;
  const source = `${PRELUDE}${BLOCK_REDUCE}
extern "C" __global__ void ${name}(const ${T}* __restrict__ x, ${T}* __restrict__ y, i64 rows, i64 cols) {
  __shared__ double sh[${ROW_BLOCK}];
  ${ROW_LOOP} {
    const i64 o = r * cols;
    double mx = -SIFT_INF;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
      const double v = (double)x[o + j];
      if (v > mx || v != v) mx = v;
    }
    mx = block_max(mx, sh);
    if (mx == -SIFT_INF) mx = 0.0; // a row of -inf: zeros, sum 0, NaN as in torch
    double sum = 0.0;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) sum += exp((double)x[o + j] - mx);
    sum = block_sum(sum, sh);
    ${write}
  }
}
`;
  return { name, source, options: [] };
}

export function softmaxBackwardKernel(dtype: DType, log: boolean): KernelSource {
  const T = floatOnly(dtype, 'softmaxBackward');
  const name = `${log ? 'log_softmax' : 'softmax'}_backward_${DTYPE_TAG[dtype]}`;
  const term = log ? '(double)dy[o + j]' : '(double)dy[o + j] * (double)y[o + j]';
  const dx = log ? '(double)dy[o + j] - exp((double)y[o + j]) * s' : '(double)y[o + j] * ((double)dy[o + j] - s)';
  const source = `${PRELUDE}${BLOCK_REDUCE}
extern "C" __global__ void ${name}(const ${T}* __restrict__ y, const ${T}* __restrict__ dy, ${T}* __restrict__ dx, i64 rows, i64 cols) {
  __shared__ double sh[${ROW_BLOCK}];
  ${ROW_LOOP} {
    const i64 o = r * cols;
    double s = 0.0;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) s += ${term};
    s = block_sum(s, sh);
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) dx[o + j] = (${T})(${dx});
  }
}
`;
  return { name, source, options: [] };
}

export interface NormFlags {
  /** Layer norm (subtract the mean) or RMS norm. */
  centred: boolean;
  weight: boolean;
  bias: boolean;
}

function normTag(f: NormFlags): string {
  return `${f.centred ? 'layer' : 'rms'}_norm${f.weight ? '_w' : ''}${f.bias ? '_b' : ''}`;
}

/** y = (x − μ)·rstd·w + b, biased variance, two passes in double; writes mean (layer norm) and rstd per row. */
export function normKernel(dtype: DType, f: NormFlags): KernelSource {
  const T = floatOnly(dtype, 'norm');
  const name = `${normTag(f)}_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}${BLOCK_REDUCE}
extern "C" __global__ void ${name}(const ${T}* __restrict__ x, const ${T}* __restrict__ w, const ${T}* __restrict__ b, ${T}* __restrict__ y, ${T}* __restrict__ mean, ${T}* __restrict__ rstd, i64 rows, i64 cols, double eps) {
  __shared__ double sh[${ROW_BLOCK}];
  ${ROW_LOOP} {
    const i64 o = r * cols;
    double mu = 0.0;
${
  f.centred
    ? `    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) mu += (double)x[o + j];
    mu = block_sum(mu, sh) / (double)cols;`
    : ''
}
    double ss = 0.0;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
      const double d = (double)x[o + j] - mu;
      ss += d * d;
    }
    ss = block_sum(ss, sh);
    const double rs = 1.0 / sqrt(ss / (double)cols + eps);
    if (threadIdx.x == 0) {
      ${f.centred ? `mean[r] = (${T})mu;` : ''}
      rstd[r] = (${T})rs;
    }
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
      double v = ((double)x[o + j] - mu) * rs;
      ${f.weight ? 'v *= (double)w[j];' : ''}
      ${f.bias ? 'v += (double)b[j];' : ''}
      y[o + j] = (${T})v;
    }
  }
}
`;
  return { name, source, options: [] };
}

/**
 * dx per row: with x̂ = (x − μ)·rstd and g = dy·w,
 *   layer norm: dx = rstd·(g − mean(g) − x̂·mean(g·x̂));  RMS norm: dx = rstd·(g − x̂·mean(g·x̂)).
 */
export function normBackwardKernel(dtype: DType, f: Pick<NormFlags, 'centred' | 'weight'>): KernelSource {
  const T = floatOnly(dtype, 'norm backward');
  const name = `${normTag({ ...f, bias: false })}_backward_${DTYPE_TAG[dtype]}`;
  const g = f.weight ? '(double)dy[o + j] * (double)w[j]' : '(double)dy[o + j]';
  const source = `${PRELUDE}${BLOCK_REDUCE}
extern "C" __global__ void ${name}(const ${T}* __restrict__ dy, const ${T}* __restrict__ x, const ${T}* __restrict__ w, const ${T}* __restrict__ mean, const ${T}* __restrict__ rstd, ${T}* __restrict__ dx, i64 rows, i64 cols) {
  __shared__ double sh[${ROW_BLOCK}];
  ${ROW_LOOP} {
    const i64 o = r * cols;
    const double mu = ${f.centred ? '(double)mean[r]' : '0.0'};
    const double rs = (double)rstd[r];
    double sg = 0.0, sgx = 0.0;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
      const double xh = ((double)x[o + j] - mu) * rs;
      const double g = ${g};
      sg += g;
      sgx += g * xh;
    }
    sg = block_sum(sg, sh);
    sgx = block_sum(sgx, sh);
    const double mg = ${f.centred ? 'sg / (double)cols' : '0.0'};
    const double mgx = sgx / (double)cols;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
      const double xh = ((double)x[o + j] - mu) * rs;
      const double g = ${g};
      dx[o + j] = (${T})(rs * (g - mg - xh * mgx));
    }
  }
}
`;
  return { name, source, options: [] };
}

/** dweight[j] = Σ_rows dy·x̂ and dbias[j] = Σ_rows dy: one thread per column, double accumulation. */
export function normParamGradKernel(dtype: DType, centred: boolean): KernelSource {
  const T = floatOnly(dtype, 'norm parameter gradients');
  const name = `${centred ? 'layer' : 'rms'}_norm_param_grad_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}
extern "C" __global__ void ${name}(const ${T}* __restrict__ dy, const ${T}* __restrict__ x, const ${T}* __restrict__ mean, const ${T}* __restrict__ rstd, ${T}* __restrict__ dw, ${T}* __restrict__ db, i64 rows, i64 cols) {
  for (i64 j = (i64)blockIdx.x * blockDim.x + threadIdx.x; j < cols; j += (i64)gridDim.x * blockDim.x) {
    double sw = 0.0, sb = 0.0;
    for (i64 r = 0; r < rows; r++) {
      const double d = (double)dy[r * cols + j];
      const double mu = ${centred ? '(double)mean[r]' : '0.0'};
      sw += d * ((double)x[r * cols + j] - mu) * (double)rstd[r];
      sb += d;
    }
    if (dw) dw[j] = (${T})sw;
    if (db) db[j] = (${T})sb;
  }
}
`;
  return { name, source, options: [] };
}

/**
 * Cross-entropy with int32 class targets over [rows, cols] logits: loss[r] = logsumexp(x_r) − x_r[t_r] (0 for
 * a target of `ignoreIndex`), and the gradient dx = (softmax(x_r) − onehot(t_r))·scale (0 rows for ignored).
 * A fused loss for the trainer; the Backend list does not require it yet.
 */
export function crossEntropyKernel(dtype: DType): KernelSource {
  const T = floatOnly(dtype, 'crossEntropy');
  const name = `cross_entropy_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}${BLOCK_REDUCE}
extern "C" __global__ void ${name}(const ${T}* __restrict__ x, const int* __restrict__ target, ${T}* __restrict__ loss, ${T}* __restrict__ dx, i64 rows, i64 cols, int ignoreIndex, double scale) {
  __shared__ double sh[${ROW_BLOCK}];
  ${ROW_LOOP} {
    const i64 o = r * cols;
    const int t = target[r];
    double mx = -SIFT_INF;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
      const double v = (double)x[o + j];
      if (v > mx || v != v) mx = v;
    }
    mx = block_max(mx, sh);
    if (mx == -SIFT_INF) mx = 0.0;
    double sum = 0.0;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) sum += exp((double)x[o + j] - mx);
    sum = block_sum(sum, sh);
    const double lse = mx + log(sum);
    const bool ignored = t == ignoreIndex || t < 0 || (i64)t >= cols;
    if (threadIdx.x == 0) loss[r] = ignored ? (${T})0 : (${T})(lse - (double)x[o + t]);
    if (dx) {
      for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
        const double p = exp((double)x[o + j] - lse);
        dx[o + j] = ignored ? (${T})0 : (${T})((p - (j == (i64)t ? 1.0 : 0.0)) * scale);
      }
    }
  }
}
`;
  return { name, source, options: [] };
}
