/** The backend's storage handle (BackendStorage above the seam). */
import type { DType } from '@siftjs/tensor';

/** One allocation: a pooled GPU buffer holding `size` elements of `dtype` (every element 32 bits on the GPU). */
export class GpuStorage {
  freed = false;
  constructor(
    readonly buffer: GPUBuffer,
    readonly dtype: DType,
    readonly size: number,
    /** Bytes asked for (size × 4, at least 4). */
    readonly bytes: number,
  ) {}
}
