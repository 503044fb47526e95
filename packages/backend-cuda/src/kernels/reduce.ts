import type { DType, ReduceOp } from '@siftjs/tensor';
import { BLOCK_REDUCE, C_TYPE, DTYPE_TAG, type KernelSource, PRELUDE, checkRank, storeAs } from './common.js';

/**
 * Reductions: one block per output element (a grid-stride loop over outputs by block), the block's threads
 * walking the reduced elements. Two Geo blocks: `kept` (the kept dims with the input's strides for them, and
 * the input's offset) and `red` (the reduced dims and their strides). Sums accumulate in double (as the CPU
 * does), max/min propagate NaN.
 */

export const REDUCE_BLOCK = 256;

export function reduceOutType(op: ReduceOp, dtype: DType): DType {
  return op === 'sum' && (dtype === 'int32' || dtype === 'bool') ? 'int32' : dtype;
}

export function reduceKernel(op: ReduceOp, dtype: DType, keptRank: number, redRank: number): KernelSource {
  checkRank(keptRank, 'reduce (kept dims)');
  checkRank(redRank, 'reduce (reduced dims)');
  const out = reduceOutType(op, dtype);
  const name = `reduce_${op}_${DTYPE_TAG[dtype]}_k${keptRank}_r${redRank}`;
  const init = op === 'sum' ? '0.0' : op === 'max' ? '-SIFT_INF' : 'SIFT_INF';
  const step =
    op === 'sum'
      ? 'acc += v;'
      : op === 'max'
        ? 'if (v > acc || v != v) acc = v;'
        : 'if (v < acc || v != v) acc = v;';
  const combine = op === 'sum' ? 'block_sum(acc, sh)' : op === 'max' ? 'block_max(acc, sh)' : '-block_max(-acc, sh)';
  const source = `${PRELUDE}${BLOCK_REDUCE}
extern "C" __global__ void ${name}(const ${C_TYPE[dtype]}* __restrict__ x, ${C_TYPE[out]}* __restrict__ out, i64 nOut, i64 nRed, Geo kept, Geo red) {
  __shared__ double sh[${REDUCE_BLOCK}];
  for (i64 o = blockIdx.x; o < nOut; o += gridDim.x) {
    const i64 base = geo_offset<${keptRank}>(kept, 0, o);
    double acc = ${init};
    for (i64 j = threadIdx.x; j < nRed; j += blockDim.x) {
      const double v = (double)x[base + geo_offset<${redRank}>(red, 0, j)];
      ${step}
    }
    acc = ${combine};
    if (threadIdx.x == 0) out[o] = ${storeAs(out, 'acc')};
  }
}
`;
  return { name, source, options: [] };
}

/** Index of the first max/min along one axis (NaN counts as the extremum, first NaN wins), as int32. */
export function argReduceKernel(op: 'argmax' | 'argmin', dtype: DType, keptRank: number): KernelSource {
  checkRank(keptRank, 'argReduce (kept dims)');
  const name = `${op}_${DTYPE_TAG[dtype]}_k${keptRank}`;
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
      const double v = (double)x[base + j * stride];
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
