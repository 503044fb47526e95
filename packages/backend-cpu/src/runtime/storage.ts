import type { DType } from '@siftjs/tensor';

/** A block of the heap. `size` in elements of `dtype`. */
export class CpuStorage {
  freed = false;
  constructor(
    readonly offset: number,
    readonly bytes: number,
    readonly dtype: DType,
    readonly size: number,
  ) {}
}
