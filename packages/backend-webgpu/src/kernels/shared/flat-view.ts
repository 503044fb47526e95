/** Index and source operands of the gathers and scatters as flat, contiguous runs of elements. */
import { type DType, type View, sizeOf } from '@siftjs/tensor';
import type { GpuStorage } from '../../memory/storage.js';
import type { GpuRuntime } from '../../runtime.js';
import { collapse } from '../../wgsl/common.js';
import { cast } from '../cast.js';
import { copy } from '../copy.js';

/**
 * A view's elements in row-major order as (buffer, offset): the view itself when it is contiguous, else a
 * contiguous copy (or, for indices of another dtype, an int32 cast) in `tmp`, which the caller frees.
 */
export function flatView(rt: GpuRuntime, v: View, op: string, dtype: DType = v.dtype): { buffer: GPUBuffer; offset: number; n: number; tmp: GpuStorage | null } {
  const n = sizeOf(v.shape);
  const c = collapse(v.shape, [v.strides]);
  if (v.dtype === dtype && (c.shape.length === 0 || (c.shape.length === 1 && c.strides[0][0] === 1))) {
    return { buffer: rt.buf(v.storage, op), offset: v.offset, n, tmp: null };
  }
  const tmp = (v.dtype === dtype ? copy(rt, v) : cast(rt, v, dtype)) as GpuStorage;
  return { buffer: tmp.buffer, offset: 0, n, tmp };
}

