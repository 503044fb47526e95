import { type DType, isHalf } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, type KernelSource, storeAs } from './common.cu.js';
import { mapKernel } from './map.cu.js';

/**
 * Strided → strided copy with conversion (copy, cast and copyInto are all this). A dtype into itself moves the
 * elements unchanged (half patterns included); into a half format rounds once from the exact value (an int32 or a
 * float64 through double, never through float).
 */
export function castKernel(from: DType, to: DType, rank: number): KernelSource {
  let expr: string;
  if (from === to) expr = 'in0';
  else if (to === 'bool') expr = '(unsigned char)((double)in0 != 0.0)'; // non-zero or NaN → 1, as the CPU's converter
  else if (to === 'int32') expr = 'to_i32((double)in0)';
  else if (isHalf(to)) expr = storeAs(to, from === 'float32' || isHalf(from) ? 'in0' : '(double)in0');
  else expr = `(${C_TYPE[to]})in0`;
  const body = `    const ${C_TYPE[to]} r = ${expr};`;
  return mapKernel({ name: `cast_${DTYPE_TAG[from]}_${DTYPE_TAG[to]}_r${rank}`, rank, inputs: [from], out: to, body, raw: from === to });
}
