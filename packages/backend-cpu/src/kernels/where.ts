import { type BackendStorage, type TypedArray, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { type Geometry, collapse, forEachRow } from './support/strided.js';

/** out = cond ? a : b elementwise; the three views share a shape. */
export function where(cpu: CpuContext, cond: View, a: View, b: View): BackendStorage {
  const out = cpu.make(a.dtype, sizeOf(a.shape));
  mapWhere(cpu.array(cond.storage), cond, cpu.array(a.storage), a, cpu.array(b.storage), b, cpu.array(out));
  return out;
}

function mapWhere(
  c: TypedArray,
  cg: Geometry,
  a: TypedArray,
  ag: Geometry,
  b: TypedArray,
  bg: Geometry,
  out: TypedArray,
): void {
  const walk = collapse(ag.shape, [cg.strides, ag.strides, bg.strides]);
  const last = walk.shape.length - 1;
  const [sc, sa, sb] = walk.strides.map((s) => s[last]);
  let o = 0;
  forEachRow(walk, [cg.offset, ag.offset, bg.offset], (off, n) => {
    let ic = off[0];
    let ia = off[1];
    let ib = off[2];
    for (let j = 0; j < n; j++, ic += sc, ia += sa, ib += sb) out[o++] = c[ic] ? a[ia] : b[ib];
  });
}
