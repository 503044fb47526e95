import type { DType } from '@siftjs/tensor';
import { BLOCK_REDUCE, DTYPE_TAG, type KernelSource, PRELUDE, ROW_BLOCK, ROW_LOOP, floatOnly, loadAs, storeAs } from './common.cu.js';

/** Softmax / log-softmax over contiguous [rows, cols], one block per row, in double as the CPU does (half rows widened, rounded once). */
export function softmaxKernel(dtype: DType, log: boolean): KernelSource {
  const T = floatOnly(dtype, 'softmax');
  const name = `softmax${log ? '_log' : ''}_${DTYPE_TAG[dtype]}`;
  const xj = `(double)${loadAs(dtype, 'x[o + j]')}`;
  const write = log
    ? `const double lse = mx + log(sum);
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) y[o + j] = ${storeAs(dtype, `${xj} - lse`)};`
    : `const double inv = 1.0 / sum;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) y[o + j] = ${storeAs(dtype, `exp(${xj} - mx) * inv`)};`;
  const source = `${PRELUDE}${BLOCK_REDUCE}
extern "C" __global__ void ${name}(const ${T}* __restrict__ x, ${T}* __restrict__ y, i64 rows, i64 cols) {
  __shared__ double sh[${ROW_BLOCK}];
  ${ROW_LOOP} {
    const i64 o = r * cols;
    double mx = -SIFT_INF;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) {
      const double v = ${xj};
      if (v > mx || v != v) mx = v;
    }
    mx = block_max(mx, sh);
    if (mx == -SIFT_INF) mx = 0.0; // a row of -inf: zeros, sum 0, NaN as in torch
    double sum = 0.0;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) sum += exp(${xj} - mx);
    sum = block_sum(sum, sh);
    ${write}
  }
}
`;
  return { name, source, options: [] };
}
