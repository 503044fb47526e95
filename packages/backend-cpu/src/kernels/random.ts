import { type BackendStorage, type DType, philox } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { halfOperands } from './support/half-operands.js';

/**
 * `size` Philox 4x32-10 uniform or normal numbers from the shared stream layout (@siftjs/tensor's random/philox.ts).
 * Half operands widen to float32 and the result is rounded back (support/half-operands.ts).
 */
export const random = halfOperands(function random(cpu: CpuContext, kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number): BackendStorage {
  const out = cpu.make(dtype, size);
  const a = cpu.array(out);
  const [lo, hi] = seed;
  if (dtype === 'float64') {
    if (kind === 'uniform') philox.fillUniformF64(a as Float64Array, lo, hi, offset);
    else philox.fillNormalF64(a as Float64Array, lo, hi, offset);
  } else if (dtype === 'float32') {
    if (kind === 'uniform') philox.fillUniformF32(a as Float32Array, lo, hi, offset);
    else philox.fillNormalF32(a as Float32Array, lo, hi, offset);
  } else {
    throw new Error(`CPU random: dtype ${dtype} is not a float type`);
  }
  return out;
});
