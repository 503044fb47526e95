import type { DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, GRID_LOOP, INDEX_ERROR, type KernelSource, PRELUDE, REPORT_INDEX, checkRank } from './common.cu.js';

/** out[i] = x.flat[idx[i]] over a strided view of rank R (flat = row-major order of the view). */
export function gatherFlatKernel(dtype: DType, rank: number): KernelSource {
  checkRank(rank, 'gatherFlat');
  const T = C_TYPE[dtype];
  const name = `gatherFlat_${DTYPE_TAG[dtype]}_r${rank}`;
  const source = `${PRELUDE}${REPORT_INDEX}
extern "C" __global__ void ${name}(const ${T}* __restrict__ x, const int* __restrict__ idx, ${T}* __restrict__ out, i64 n, i64 size, Geo g, int* err) {
  ${GRID_LOOP} {
    const int k = idx[i];
    if (k < 0 || (i64)k >= size) {
      report_index(err, ${INDEX_ERROR.gatherFlat}, k, size);
      out[i] = (${T})0;
      continue;
    }
    out[i] = x[geo_offset<${rank}>(g, 0, (i64)k)];
  }
}
`;
  return { name, source, options: [] };
}
