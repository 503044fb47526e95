import type { DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, GRID_LOOP, INDEX_ERROR, type KernelSource, PRELUDE, REPORT_INDEX, atomicAddable } from './common.cu.js';

/** out (zeroed, [rows, d]) += src[i, :] into row ids[i]; atomic adds (float sums' order is not fixed). */
export function scatterAddRowsKernel(dtype: DType): KernelSource {
  atomicAddable(dtype, 'scatterAddRows');
  const T = C_TYPE[dtype];
  const name = `scatterAddRows_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}${REPORT_INDEX}
extern "C" __global__ void ${name}(const int* __restrict__ ids, const ${T}* __restrict__ src, ${T}* __restrict__ out, i64 n, i64 d, i64 rows, int* err) {
  ${GRID_LOOP} {
    const i64 k = i / d, j = i % d;
    const int id = ids[k];
    if (id < 0 || (i64)id >= rows) {
      report_index(err, ${INDEX_ERROR.scatterAddRows}, id, rows);
      continue;
    }
    atomicAdd(&out[(i64)id * d + j], src[i]);
  }
}
`;
  return { name, source, options: [] };
}
