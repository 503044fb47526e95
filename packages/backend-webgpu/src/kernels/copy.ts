/** Backend.copy: a contiguous copy of a strided view (the identity strided map, shared/strided-map.ts; halves move as bit patterns). */
import type { BackendStorage, View } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { mapNew } from './shared/strided-map.js';

export function copy(rt: GpuRuntime, x: View): BackendStorage {
  const label = `copy ${x.dtype} ${shapeOf(x)}`;
  return rt.op(label, () => {
    const elem = rt.elem(x.dtype, 'copy');
    return mapNew(rt, label, x.dtype, x.shape, [{ view: x, elem, bits: true }], 'a', '', true);
  });
}
