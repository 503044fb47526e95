import { type BackendStorage, type DType, type HalfDType, type View, isContiguous, isHalf, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { copy } from './copy.js';
import { contiguousGeometry, converter, copyStrided } from './support/copy-strided.js';
import { collapse } from './support/strided.js';
import { narrowRun, widenRun } from './support/half.js';

/**
 * A contiguous copy of `x` in `dtype` (to int truncates toward zero, to bool is "non-zero", to float16 / bfloat16
 * rounds to nearest even). float32 ↔ half runs go through support/half.ts (WebAssembly SIMD); a strided view's, one
 * slice of its leading (merged) dim at a time, each copied contiguous in its own dtype first — a per-element
 * conversion in TypeScript cost a 1.1B model's selecting step most of a minute (its weight gradients arrive
 * transposed), and a copy of the whole view raised that run's peak by a weight gradient. Every other pair element by
 * element (support/copy-strided.ts).
 */
export function cast(cpu: CpuContext, x: View, dtype: DType): BackendStorage {
  const n = sizeOf(x.shape);
  const out = cpu.make(dtype, n);
  const widen = isHalf(x.dtype) && dtype === 'float32';
  const narrow = x.dtype === 'float32' && isHalf(dtype);
  if (!widen && !narrow) {
    copyStrided(cpu.array(x.storage), x, cpu.array(out), contiguousGeometry(x.shape), converter(x.dtype, dtype));
    return out;
  }
  // Arrays taken per run: a slice's copy may grow the heap and replace its buffer.
  const run = (from: BackendStorage, offset: number, at: number, count: number) => {
    const src = cpu.array(from).subarray(offset, offset + count);
    const dst = cpu.array(out).subarray(at, at + count);
    if (widen) widenRun(cpu, src as Uint16Array, dst as Float32Array, x.dtype as HalfDType);
    else narrowRun(cpu, src as Float32Array, dst as Uint16Array, dtype as HalfDType);
  };
  if (isContiguous(x.shape, x.strides)) {
    run(x.storage, x.offset, 0, n);
    return out;
  }
  const walk = collapse(x.shape, [x.strides]);
  const [lead, leadStride] = walk.shape.length > 1 ? [walk.shape[0], walk.strides[0][0]] : [1, 0];
  const inner = n / lead;
  const sliceShape = walk.shape.length > 1 ? walk.shape.slice(1) : walk.shape;
  const sliceStrides = walk.shape.length > 1 ? walk.strides[0].slice(1) : walk.strides[0];
  for (let i = 0; i < lead && inner > 0; i++) {
    const packed = copy(cpu, { storage: x.storage, dtype: x.dtype, shape: sliceShape, strides: sliceStrides, offset: x.offset + i * leadStride });
    run(packed, 0, i * inner, inner);
    cpu.free(packed);
  }
  return out;
}
