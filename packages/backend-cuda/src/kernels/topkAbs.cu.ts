import type { DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, GRID_LOOP, type KernelSource, PRELUDE, checkRank, loadAs } from './common.cu.js';

/** |x| of a strided view into a contiguous double buffer, NaN as +inf (the input of top-k selection). */
export function topkAbsKernel(dtype: DType, rank: number): KernelSource {
  checkRank(rank, 'topkAbs');
  const name = `topkAbs_magnitude_${DTYPE_TAG[dtype]}_r${rank}`;
  const source = `${PRELUDE}
extern "C" __global__ void ${name}(const ${C_TYPE[dtype]}* __restrict__ x, double* __restrict__ out, i64 n, Geo g) {
  ${GRID_LOOP} {
    const double v = fabs((double)${loadAs(dtype, `x[geo_offset<${rank}>(g, 0, i)]`)});
    out[i] = v != v ? SIFT_INF : v;
  }
}
`;
  return { name, source, options: [] };
}
