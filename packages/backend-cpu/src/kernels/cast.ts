import { type BackendStorage, type DType, type HalfDType, type View, isContiguous, isHalf, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { copy } from './copy.js';
import { contiguousGeometry, converter, copyStrided } from './support/copy-strided.js';
import { narrowRun, widenRun } from './support/half.js';

/**
 * A contiguous copy of `x` in `dtype` (to int truncates toward zero, to bool is "non-zero", to float16 / bfloat16
 * rounds to nearest even). float32 ↔ half runs go through support/half.ts (WebAssembly SIMD), a strided view first
 * copied contiguous in its own dtype (a per-element conversion in TypeScript cost a 1.1B model's selecting step
 * most of a minute: its weight gradients arrive transposed); every other pair element by element
 * (support/copy-strided.ts).
 */
export function cast(cpu: CpuContext, x: View, dtype: DType): BackendStorage {
  const n = sizeOf(x.shape);
  const halfRun = (isHalf(x.dtype) && dtype === 'float32') || (x.dtype === 'float32' && isHalf(dtype));
  if (halfRun && n > 0 && !isContiguous(x.shape, x.strides)) {
    const packed = copy(cpu, x);
    try {
      return cast(cpu, { storage: packed, dtype: x.dtype, shape: x.shape, strides: contiguousGeometry(x.shape).strides, offset: 0 }, dtype);
    } finally {
      cpu.free(packed);
    }
  }
  const out = cpu.make(dtype, n);
  if (isContiguous(x.shape, x.strides)) {
    const src = cpu.array(x.storage).subarray(x.offset, x.offset + n);
    if (isHalf(x.dtype) && dtype === 'float32') {
      widenRun(cpu, src as Uint16Array, cpu.array(out) as Float32Array, x.dtype);
      return out;
    }
    if (x.dtype === 'float32' && isHalf(dtype)) {
      narrowRun(cpu, src as Float32Array, cpu.array(out) as Uint16Array, dtype as HalfDType);
      return out;
    }
  }
  copyStrided(cpu.array(x.storage), x, cpu.array(out), contiguousGeometry(x.shape), converter(x.dtype, dtype));
  return out;
}
