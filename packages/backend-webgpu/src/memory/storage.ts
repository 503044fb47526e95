/** The backend's storage handle (BackendStorage above the seam). */
import type { DType } from '@siftjs/tensor';

/**
 * One allocation: a pooled GPU buffer holding `size` elements of `dtype` (32 bits each; float16 and bfloat16 16
 * bits each, two to a word).
 */
export class GpuStorage {
  freed = false;
  constructor(
    readonly buffer: GPUBuffer,
    readonly dtype: DType,
    readonly size: number,
    /** Bytes asked for: whole 32-bit words, at least one (runtime.ts's make). */
    readonly bytes: number,
  ) {}
}
