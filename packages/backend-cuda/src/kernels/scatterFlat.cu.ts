import type { DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, GRID_LOOP, INDEX_ERROR, type KernelSource, PRELUDE, REPORT_INDEX, atomicAddable } from './common.cu.js';

/** dst[idx[i]] = src[i] ('set'; with repeated indices one of the writes wins) or += src[i] ('add', atomic). */
export function scatterFlatKernel(dtype: DType, mode: 'set' | 'add'): KernelSource {
  if (mode === 'add') atomicAddable(dtype, 'scatterFlat add');
  const T = C_TYPE[dtype];
  const name = `scatterFlat_${mode}_${DTYPE_TAG[dtype]}`;
  const write = mode === 'add' ? 'atomicAdd(&dst[k], src[i]);' : 'dst[k] = src[i];';
  const source = `${PRELUDE}${REPORT_INDEX}
extern "C" __global__ void ${name}(${T}* __restrict__ dst, const int* __restrict__ idx, const ${T}* __restrict__ src, i64 n, i64 size, int* err) {
  ${GRID_LOOP} {
    const int k = idx[i];
    if (k < 0 || (i64)k >= size) {
      report_index(err, ${INDEX_ERROR.scatterFlat}, k, size);
      continue;
    }
    ${write}
  }
}
`;
  return { name, source, options: [] };
}
