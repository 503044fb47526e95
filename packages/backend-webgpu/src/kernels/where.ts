/** Backend.where: a strided map (shared/strided-map.ts) of three operands, a where cond is nonzero, else b (halves as bit patterns). */
import type { BackendStorage, View } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { isPacked, zeroOf } from '../wgsl/common.js';
import { mapNew } from './shared/strided-map.js';

export function where(rt: GpuRuntime, cond: View, a: View, b: View): BackendStorage {
  const label = `where ${shapeOf(cond)}, ${a.dtype} ${shapeOf(a)}, ${shapeOf(b)}`;
  return rt.op(label, () => {
    const t = rt.elem(a.dtype, 'where');
    const tc = rt.scalar(cond.dtype, 'where');
    const bits = isPacked(t);
    const inputs = [{ view: cond, elem: tc }, { view: a, elem: t, bits }, { view: b, elem: t, bits }];
    return mapNew(rt, label, a.dtype, a.shape, inputs, `select(c, b, a != ${zeroOf(tc)})`, '', bits);
  });
}
