/** Backend.copyInto: a strided map (shared/strided-map.ts) whose output is the destination view, in place. */
import { ShapeError, type View, contiguousStrides, sizeOf } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { conversion } from './cast.js';
import { copy } from './copy.js';
import { map } from './shared/strided-map.js';

export function copyInto(rt: GpuRuntime, dst: View, src: View): void {
  const label = `copyInto ${dst.dtype} ${shapeOf(dst)} ← ${src.dtype} ${shapeOf(src)}`;
  rt.op(label, () => {
    if (sizeOf(dst.shape) !== sizeOf(src.shape) || dst.shape.length !== src.shape.length) {
      throw new ShapeError(`webgpu copyInto: destination ${shapeOf(dst)} and source ${shapeOf(src)} differ`);
    }
    if (src.storage === dst.storage) {
      // One buffer cannot be bound both read-only and writable in a dispatch (copy_ of a tensor into itself, or
      // between two views of one storage): go through a copy of the source, which also reads all before writing.
      const tmp = copy(rt, src);
      try {
        copyInto(rt, dst, { ...src, storage: tmp, offset: 0, strides: contiguousStrides(src.shape) });
      } finally {
        rt.free(tmp);
      }
      return;
    }
    const c = conversion(rt.elem(src.dtype, 'copyInto'), rt.elem(dst.dtype, 'copyInto'));
    const out = { buffer: rt.buf(dst.storage, label), ...c.output, offset: dst.offset, strides: dst.strides };
    map(rt, label, src.shape, out, [{ view: src, ...c.input }], c.expr);
  });
}
