/** Backend.cast: one strided map (shared/strided-map.ts) converting between element types. */
import type { BackendStorage, DType, View } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import type { Scalar } from '../wgsl/common.js';
import { mapNew } from './shared/strided-map.js';

export function cast(rt: GpuRuntime, x: View, dtype: DType): BackendStorage {
  const label = `cast ${x.dtype}→${dtype} ${shapeOf(x)}`;
  return rt.op(label, () => {
    const [from, to] = [rt.scalar(x.dtype, 'cast'), rt.scalar(dtype, 'cast')];
    return mapNew(rt, label, dtype, x.shape, [{ view: x, type: from }], castExpr(from, to));
  });
}

/** A conversion between element types (JS semantics for in-range values; float → int truncates). */
export function castExpr(from: Scalar, to: Scalar): string {
  if (from === to) return 'a';
  if (to === 'u32') return from === 'f32' ? 'select(0u, 1u, a != 0.0)' : 'select(0u, 1u, a != 0)';
  if (to === 'f32') return 'f32(a)';
  // to i32
  return from === 'f32' ? 'select(i32(a), 0, is_nan(a))' : 'i32(a)';
}
