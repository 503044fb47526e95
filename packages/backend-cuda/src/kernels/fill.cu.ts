import type { DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, GRID_LOOP, type KernelSource, PRELUDE, storeAs } from './common.cu.js';

/** A contiguous fill with one value (passed as a double and converted like a typed-array store). */
export function fillKernel(dtype: DType): KernelSource {
  const name = `fill_${DTYPE_TAG[dtype]}`;
  const value = dtype === 'bool' ? '(unsigned char)truthy(value)' : storeAs(dtype, 'value');
  const source = `${PRELUDE}
extern "C" __global__ void ${name}(${C_TYPE[dtype]}* __restrict__ out, i64 n, double value) {
  const ${C_TYPE[dtype]} r = ${value};
  ${GRID_LOOP} out[i] = r;
}
`;
  return { name, source, options: [] };
}
