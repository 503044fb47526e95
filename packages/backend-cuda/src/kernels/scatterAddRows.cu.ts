import { type DType, isHalf } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, GRID_LOOP, INDEX_ERROR, type KernelSource, PRELUDE, REPORT_INDEX, atomicAddable, loadAs } from './common.cu.js';

/**
 * out (zeroed, [rows, d]) += src[i, :] into row ids[i]; atomic adds (float sums' order is not fixed). A half src
 * is summed into a float out (scatterAddRows.ts rounds it into the half format once).
 */
export function scatterAddRowsKernel(dtype: DType): KernelSource {
  atomicAddable(dtype, 'scatterAddRows');
  const T = C_TYPE[dtype];
  const O = isHalf(dtype) ? 'float' : T;
  const name = `scatterAddRows_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}${REPORT_INDEX}
extern "C" __global__ void ${name}(const int* __restrict__ ids, const ${T}* __restrict__ src, ${O}* __restrict__ out, i64 n, i64 d, i64 rows, int* err) {
  ${GRID_LOOP} {
    const i64 k = i / d, j = i % d;
    const int id = ids[k];
    if (id < 0 || (i64)id >= rows) {
      report_index(err, ${INDEX_ERROR.scatterAddRows}, id, rows);
      continue;
    }
    atomicAdd(&out[(i64)id * d + j], ${loadAs(dtype, 'src[i]')});
  }
}
`;
  return { name, source, options: [] };
}
