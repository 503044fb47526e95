import type { DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, type KernelSource, PRELUDE, checkRank, loadAs } from './common.cu.js';
import { REDUCE_BLOCK } from './reduce.cu.js';

/** Index of the first max/min along one axis (NaN counts as the extremum, first NaN wins), as int32. */
export function argReduceKernel(op: 'argmax' | 'argmin', dtype: DType, keptRank: number): KernelSource {
  checkRank(keptRank, 'argReduce (kept dims)');
  const name = `argReduce_${op}_${DTYPE_TAG[dtype]}_k${keptRank}`;
  const better = op === 'argmax' ? '>' : '<';
  const source = `${PRELUDE}
// (value, index) pairs: NaN beats everything, then the better value, then the lower index.
__device__ __forceinline__ bool arg_wins(double a, i64 ia, double b, i64 ib) {
  const bool na = a != a, nb = b != b;
  if (na || nb) return na && (!nb || ia < ib);
  if (a ${better} b) return true;
  if (a == b) return ia < ib;
  return false;
}

extern "C" __global__ void ${name}(const ${C_TYPE[dtype]}* __restrict__ x, int* __restrict__ out, i64 nOut, i64 n, i64 stride, Geo kept) {
  __shared__ double shv[${REDUCE_BLOCK}];
  __shared__ i64 shi[${REDUCE_BLOCK}];
  const int t = threadIdx.x;
  for (i64 o = blockIdx.x; o < nOut; o += gridDim.x) {
    const i64 base = geo_offset<${keptRank}>(kept, 0, o);
    double best = 0.0;
    i64 at = -1;
    for (i64 j = t; j < n; j += blockDim.x) {
      const double v = (double)${loadAs(dtype, 'x[base + j * stride]')};
      if (at < 0 || arg_wins(v, j, best, at)) { best = v; at = j; }
    }
    shv[t] = best;
    shi[t] = at;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (t < s && shi[t + s] >= 0 && (shi[t] < 0 || arg_wins(shv[t + s], shi[t + s], shv[t], shi[t]))) {
        shv[t] = shv[t + s];
        shi[t] = shi[t + s];
      }
      __syncthreads();
    }
    if (t == 0) out[o] = shi[0] < 0 ? 0 : (int)shi[0];
    __syncthreads();
  }
}
`;
  return { name, source, options: [] };
}
