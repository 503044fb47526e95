import type { DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, GRID_LOOP, INDEX_ERROR, type KernelSource, PRELUDE, REPORT_INDEX } from './common.cu.js';

/** out[i, j] = table[ids[i], j] for a strided [V, D] table (row stride rs, column stride cs). */
export function gatherRowsKernel(dtype: DType): KernelSource {
  const T = C_TYPE[dtype];
  const name = `gatherRows_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}${REPORT_INDEX}
extern "C" __global__ void ${name}(const ${T}* __restrict__ table, const int* __restrict__ ids, ${T}* __restrict__ out, i64 n, i64 d, i64 v, i64 offset, i64 rs, i64 cs, int* err) {
  ${GRID_LOOP} {
    const i64 row = i / d, j = i % d;
    const int id = ids[row];
    if (id < 0 || (i64)id >= v) {
      report_index(err, ${INDEX_ERROR.gatherRows}, id, v);
      out[i] = (${T})0;
      continue;
    }
    out[i] = table[offset + (i64)id * rs + j * cs];
  }
}
`;
  return { name, source, options: [] };
}
