import { type HalfDType, type View, arrayToHalfBits, contiguousStrides, halfBitsToFloat32Array, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../../runtime/context.js';
import type { CpuStorage } from '../../runtime/storage.js';
import { copy } from '../copy.js';

/**
 * Half-precision data through the float32 kernels: runs of bits widened to float32 and float32 rounded back to
 * nearest even, by wasm/half-f32.wat where it loaded (the same bits as @siftjs/tensor's src/half.ts), else by
 * src/half.ts itself; and the transient float32 copies of half views the kernels read.
 */

/** dst[i] = the value of src[i]; both arrays in the heap, the same length. */
export function widenRun(cpu: CpuContext, src: Uint16Array, dst: Float32Array, dtype: HalfDType): void {
  const k = cpu.simd.half;
  if (!k || src.length < 8) {
    halfBitsToFloat32Array(src, dtype, dst);
    return;
  }
  (dtype === 'bfloat16' ? k.widenBf16 : k.widenF16)(src.byteOffset, dst.byteOffset, src.length);
}

/** dst[i] = src[i] rounded to nearest even in `dtype`; both arrays in the heap, the same length. */
export function narrowRun(cpu: CpuContext, src: Float32Array, dst: Uint16Array, dtype: HalfDType): void {
  const k = cpu.simd.half;
  if (!k || src.length < 8) {
    arrayToHalfBits(src, dtype, dst);
    return;
  }
  (dtype === 'bfloat16' ? k.narrowBf16 : k.narrowF16)(src.byteOffset, dst.byteOffset, src.length);
}

/** The smallest and largest element offsets a view reads (strides may be 0, never negative here). */
function span(v: View): [number, number] {
  let hi = v.offset;
  for (let i = 0; i < v.shape.length; i++) hi += (v.shape[i] - 1) * v.strides[i];
  return [v.offset, hi];
}

/**
 * A float32 copy of a half view in a fresh storage the caller frees (`cpu.free(view.storage)`). Where the view reads
 * most of the elements it spans (a weight, its transpose, a broadcast row), the span is widened as it lies and the
 * view keeps its strides — a transposed weight stays a transposed operand for the BLAS; otherwise (a strided slice of a
 * larger storage) the view's own elements are gathered first, so no more than twice its size is widened.
 */
export function widenView(cpu: CpuContext, v: View): View {
  const dtype = v.dtype as HalfDType;
  const n = sizeOf(v.shape);
  if (n === 0) return { storage: cpu.make('float32', 0), dtype: 'float32', shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 };
  const [lo, hi] = span(v);
  const length = hi - lo + 1;
  if (length <= 2 * n) {
    const out = cpu.make('float32', length);
    const src = cpu.array(v.storage) as Uint16Array;
    widenRun(cpu, src.subarray(lo, hi + 1), cpu.array(out) as Float32Array, dtype);
    return { storage: out, dtype: 'float32', shape: v.shape, strides: v.strides, offset: v.offset - lo };
  }
  const packed = copy(cpu, v) as CpuStorage;
  try {
    const out = cpu.make('float32', n);
    widenRun(cpu, cpu.array(packed) as Uint16Array, cpu.array(out) as Float32Array, dtype);
    return { storage: out, dtype: 'float32', shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 };
  } finally {
    cpu.free(packed);
  }
}

/** A fresh `dtype` storage with `s`'s float32 values rounded to nearest even; `s` is freed. */
export function narrowStorage(cpu: CpuContext, s: CpuStorage, dtype: HalfDType): CpuStorage {
  try {
    const out = cpu.make(dtype, s.size);
    narrowRun(cpu, cpu.array(s) as Float32Array, cpu.array(out) as Uint16Array, dtype);
    return out;
  } finally {
    cpu.free(s);
  }
}

/** A fresh float32 storage with the values of the half storage `s` (all `s.size` of them). */
export function widenStorage(cpu: CpuContext, s: CpuStorage): CpuStorage {
  const out = cpu.make('float32', s.size);
  widenRun(cpu, cpu.array(s) as Uint16Array, cpu.array(out) as Float32Array, s.dtype as HalfDType);
  return out;
}
