import { type DType, isHalf } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, GRID_LOOP, INDEX_ERROR, type KernelSource, PRELUDE, REPORT_INDEX, atomicAddable, loadAs } from './common.cu.js';
import { HALF_ATOMIC_ADD } from './half.cu.js';

/**
 * dst[idx[i]] = src[i] ('set'; with repeated indices one of the writes wins; half patterns moved unchanged) or
 * += src[i] ('add', atomic; into a half element a compare-and-swap, each add rounded).
 */
export function scatterFlatKernel(dtype: DType, mode: 'set' | 'add'): KernelSource {
  if (mode === 'add') atomicAddable(dtype, 'scatterFlat add');
  const T = C_TYPE[dtype];
  const name = `scatterFlat_${mode}_${DTYPE_TAG[dtype]}`;
  const add = isHalf(dtype) ? `sift_atomic_add_half(&dst[k], ${loadAs(dtype, 'src[i]')}, ${dtype === 'bfloat16'});` : 'atomicAdd(&dst[k], src[i]);';
  const write = mode === 'add' ? add : 'dst[k] = src[i];';
  const source = `${PRELUDE}${REPORT_INDEX}${isHalf(dtype) && mode === 'add' ? HALF_ATOMIC_ADD : ''}
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
