/** Backend.cast: one strided map (shared/strided-map.ts) converting between element types. */
import type { BackendStorage, DType, View } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Elem, type Scalar, halfFormat, isPacked, valueType } from '../wgsl/common.js';
import { type MapElem, mapNew } from './shared/strided-map.js';

export function cast(rt: GpuRuntime, x: View, dtype: DType): BackendStorage {
  const label = `cast ${x.dtype}→${dtype} ${shapeOf(x)}`;
  return rt.op(label, () => {
    const c = conversion(rt.elem(x.dtype, 'cast'), rt.elem(dtype, 'cast'));
    return mapNew(rt, label, dtype, x.shape, [{ view: x, ...c.input }], c.expr, '', c.output.bits);
  });
}

/**
 * How a map converts elements of `from` into `to` (cast and copyInto): how the input is read, whether the
 * expression gives a 16-bit pattern, and the expression. A half format into itself moves the pattern; an int32
 * into a half format is rounded once from the integer (through f32 it would be rounded twice for bfloat16); a half
 * into bool tests the pattern (a device may flush bfloat16's subnormals, once widened, to zero); the rest convert
 * values, halves widened to f32 first and rounded to nearest even when stored.
 */
export function conversion(from: Elem, to: Elem): { input: MapElem; output: MapElem; expr: string } {
  if (from === to) return { input: { elem: from, bits: true }, output: { elem: to, bits: true }, expr: 'a' };
  if (isPacked(from) && to === 'u32') return { input: { elem: from, bits: true }, output: { elem: to }, expr: 'select(0u, 1u, (a & 0x7fffu) != 0u)' };
  if (from === 'i32' && isPacked(to)) return { input: { elem: from }, output: { elem: to, bits: true }, expr: `i32_to_${halfFormat(to)}(a)` };
  return { input: { elem: from }, output: { elem: to }, expr: castExpr(valueType(from), valueType(to)) };
}

/**
 * A conversion between element value types (JS semantics for in-range values; float → int truncates; float → bool
 * is non-zero, NaN included: a device may evaluate `NaN != 0` as false, so NaN is tested apart).
 */
export function castExpr(from: Scalar, to: Scalar): string {
  if (from === to) return 'a';
  if (to === 'u32') return from === 'f32' ? 'select(0u, 1u, a != 0.0 || is_nan(a))' : 'select(0u, 1u, a != 0)';
  if (to === 'f32') return 'f32(a)';
  // to i32
  return from === 'f32' ? 'select(i32(a), 0, is_nan(a))' : 'i32(a)';
}
