/** Reductions over any axes of a strided view, and argmax / argmin along one axis (wgsl/reduce.ts). */
import { type BackendStorage, type DType, type ReduceOp, ShapeError, type View, sizeOf } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { Params, collapse, grid, scalarOf } from '../wgsl/common.js';
import { argSource, reduceSource } from '../wgsl/reduce.js';

export function reduce(rt: GpuRuntime, op: ReduceOp, x: View, axes: readonly number[]): BackendStorage {
  const label = `${op} ${x.dtype} ${shapeOf(x)} over axes [${axes.join(', ')}]`;
  return rt.op(label, () => {
    const input = rt.scalar(x.dtype, op);
    const outDType: DType = op === 'sum' && (x.dtype === 'int32' || x.dtype === 'bool') ? 'int32' : x.dtype;
    const outType = scalarOf(outDType);
    const keptShape: number[] = [];
    const keptStrides: number[] = [];
    const redShape: number[] = [];
    const redStrides: number[] = [];
    x.shape.forEach((d, i) => {
      if (axes.includes(i)) {
        redShape.push(d);
        redStrides.push(x.strides[i]);
      } else {
        keptShape.push(d);
        keptStrides.push(x.strides[i]);
      }
    });
    const nOut = sizeOf(keptShape);
    const R = sizeOf(redShape);
    const out = rt.make(outDType, nOut, op);
    if (nOut === 0) return out;
    const outer = collapse(keptShape, [keptStrides]);
    const inner = collapse(redShape, [redStrides]);
    const mode = R >= 256 && nOut <= 16384 ? 'workgroup' : 'thread';
    const source = reduceSource({ op, input, out: outType, outerRank: outer.shape.length, innerRank: inner.shape.length, mode, workgroup: rt.wg });
    const p = new Params().u32(nOut).u32(R);
    for (const d of outer.shape) p.u32(d);
    for (const d of inner.shape) p.u32(d);
    p.i32(x.offset);
    for (const s of outer.strides[0]) p.i32(s);
    for (const s of inner.strides[0]) p.i32(s);
    const groups = grid(mode === 'workgroup' ? nOut : Math.ceil(nOut / rt.wg), rt.limits.maxComputeWorkgroupsPerDimension);
    rt.launch(label, source, p, [out.buffer, rt.buf(x.storage, op)], groups);
    return out;
  });
}

export function argReduce(rt: GpuRuntime, op: 'argmax' | 'argmin', x: View, axis: number): BackendStorage {
  const label = `${op} ${x.dtype} ${shapeOf(x)} along axis ${axis}`;
  return rt.op(label, () => {
    const input = rt.scalar(x.dtype, op);
    const R = x.shape[axis];
    if (!(R > 0)) throw new ShapeError(`webgpu ${op}: axis ${axis} of ${shapeOf(x)} is empty`);
    const keptShape = x.shape.filter((_, i) => i !== axis);
    const keptStrides = x.strides.filter((_, i) => i !== axis);
    const nOut = sizeOf(keptShape);
    const out = rt.make('int32', nOut, op);
    if (nOut === 0) return out;
    const outer = collapse(keptShape, [keptStrides]);
    const source = argSource({ op, input, outerRank: outer.shape.length, workgroup: rt.wg });
    const p = new Params().u32(nOut).u32(R);
    for (const d of outer.shape) p.u32(d);
    p.i32(x.offset);
    for (const s of outer.strides[0]) p.i32(s);
    p.i32(x.strides[axis]);
    rt.launch(label, source, p, [out.buffer, rt.buf(x.storage, op)], grid(Math.ceil(nOut / rt.wg), rt.limits.maxComputeWorkgroupsPerDimension));
    return out;
  });
}
