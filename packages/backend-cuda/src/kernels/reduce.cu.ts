import type { DType, ReduceOp } from '@siftjs/tensor';
import { BLOCK_REDUCE, C_TYPE, DTYPE_TAG, type KernelSource, PRELUDE, checkRank, loadAs, storeAs } from './common.cu.js';

/**
 * Reductions: one block per output element (a grid-stride loop over outputs by block), the block's threads
 * walking the reduced elements. Two Geo blocks: `kept` (the kept dims with the input's strides for them, and
 * the input's offset) and `red` (the reduced dims and their strides). Sums accumulate in double (as the CPU
 * does), max/min propagate NaN; half inputs are widened on load and the result rounded once into their format.
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
      const double v = (double)${loadAs(dtype, `x[base + geo_offset<${redRank}>(red, 0, j)]`)};
      ${step}
    }
    acc = ${combine};
    if (threadIdx.x == 0) out[o] = ${storeAs(out, 'acc')};
  }
}
`;
  return { name, source, options: [] };
}
