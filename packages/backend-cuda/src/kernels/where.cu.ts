import type { DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, type KernelSource } from './common.cu.js';
import { mapKernel } from './map.cu.js';

export function whereKernel(dtype: DType, rank: number): KernelSource {
  const body = `    const ${C_TYPE[dtype]} r = in0 ? in1 : in2;`;
  // half operands move as their patterns
  return mapKernel({ name: `where_${DTYPE_TAG[dtype]}_r${rank}`, rank, inputs: ['bool', dtype, dtype], out: dtype, body, raw: true });
}
