/** Backend.where: a strided map (shared/strided-map.ts) of three operands, a where cond is nonzero, else b. */
import type { BackendStorage, View } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { zeroOf } from '../wgsl/common.js';
import { mapNew } from './shared/strided-map.js';

export function where(rt: GpuRuntime, cond: View, a: View, b: View): BackendStorage {
  const label = `where ${shapeOf(cond)}, ${a.dtype} ${shapeOf(a)}, ${shapeOf(b)}`;
  return rt.op(label, () => {
    const t = rt.scalar(a.dtype, 'where');
    const tc = rt.scalar(cond.dtype, 'where');
    return mapNew(rt, label, a.dtype, a.shape, [{ view: cond, type: tc }, { view: a, type: t }, { view: b, type: t }], `select(c, b, a != ${zeroOf(tc)})`);
  });
}
