/** Elementwise kernels: fill, copies and casts, unary and binary ops, where — all one strided map (wgsl/elementwise.ts). */
import {
  type BackendStorage,
  type BinaryOp,
  COMPARISON_OPS,
  type DType,
  DTypeError,
  ShapeError,
  type UnaryOp,
  type View,
  contiguousStrides,
  sizeOf,
} from '@siftjs/tensor';
import { type GpuRuntime, type GpuStorage, NotImplementedError, shapeOf } from '../runtime.js';
import { LINEAR_GROUP, Params, type Scalar, collapse, grid, paramBlock, pu, storage } from '../wgsl/common.js';
import { ERF, POW, binaryExpr, castExpr, mapSource, unaryExpr } from '../wgsl/elementwise.js';

/**
 * An elementwise map: `out` (a strided view of `outBuffer`) ← expr(inputs) over `shape`. The dims are
 * collapsed first, so most views run as rank 1 or 2.
 */
export function map(
  rt: GpuRuntime,
  label: string,
  shape: readonly number[],
  out: { buffer: GPUBuffer; type: Scalar; offset: number; strides: readonly number[] },
  inputs: { view: View; type: Scalar }[],
  expr: string,
  functions = '',
): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const c = collapse(shape, [out.strides, ...inputs.map((i) => i.view.strides)]);
  const rank = c.shape.length;
  const source = mapSource({ inputs: inputs.map((i) => i.type), out: out.type, expr, functions, rank, workgroup: rt.wg });
  const p = new Params().u32(n);
  for (const d of c.shape) p.u32(d);
  p.i32(out.offset);
  for (const s of c.strides[0]) p.i32(s);
  inputs.forEach((inp, j) => {
    p.i32(inp.view.offset);
    for (const s of c.strides[j + 1]) p.i32(s);
  });
  const groups = grid(Math.ceil(n / rt.wg), rt.limits.maxComputeWorkgroupsPerDimension);
  rt.launch(label, source, p, [out.buffer, ...inputs.map((i) => rt.buf(i.view.storage, label))], groups);
}

export function mapNew(rt: GpuRuntime, label: string, dtype: DType, shape: readonly number[], inputs: { view: View; type: Scalar }[], expr: string, functions = ''): GpuStorage {
  const out = rt.make(dtype, sizeOf(shape), label);
  map(rt, label, shape, { buffer: out.buffer, type: rt.scalar(dtype, label), offset: 0, strides: contiguousStrides(shape) }, inputs, expr, functions);
  return out;
}

export function fill(rt: GpuRuntime, dtype: DType, size: number, value: number): BackendStorage {
  const label = `fill ${dtype} ×${size}`;
  return rt.op(label, () => {
    const out = rt.make(dtype, size, 'fill');
    if (size === 0) return out;
    const p = new Params().u32(size);
    if (dtype === 'float32') p.f32(value);
    else if (dtype === 'int32') p.i32(value);
    else p.u32(value ? 1 : 0);
    const source = `${paramBlock(2)}
${storage(1, 'out', 'u32', true)}
@compute @workgroup_size(${rt.wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let i = group * ${rt.wg}u + lid;
    if (i < ${pu(0)}) { out[i] = ${pu(1)}; }
}
`;
    rt.launch(label, source, p, [out.buffer], grid(Math.ceil(size / rt.wg), rt.limits.maxComputeWorkgroupsPerDimension));
    return out;
  });
}

export function copy(rt: GpuRuntime, x: View): BackendStorage {
  const label = `copy ${x.dtype} ${shapeOf(x)}`;
  return rt.op(label, () => {
    const t = rt.scalar(x.dtype, 'copy');
    return mapNew(rt, label, x.dtype, x.shape, [{ view: x, type: t }], 'a');
  });
}

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
    const [td, ts] = [rt.scalar(dst.dtype, 'copyInto'), rt.scalar(src.dtype, 'copyInto')];
    const out = { buffer: rt.buf(dst.storage, label), type: td, offset: dst.offset, strides: dst.strides };
    map(rt, label, src.shape, out, [{ view: src, type: ts }], castExpr(ts, td));
  });
}

export function cast(rt: GpuRuntime, x: View, dtype: DType): BackendStorage {
  const label = `cast ${x.dtype}→${dtype} ${shapeOf(x)}`;
  return rt.op(label, () => {
    const [from, to] = [rt.scalar(x.dtype, 'cast'), rt.scalar(dtype, 'cast')];
    return mapNew(rt, label, dtype, x.shape, [{ view: x, type: from }], castExpr(from, to));
  });
}

export function unary(rt: GpuRuntime, op: UnaryOp, x: View): BackendStorage {
  const label = `${op} ${x.dtype} ${shapeOf(x)}`;
  return rt.op(label, () => {
    const t = rt.scalar(x.dtype, op);
    const expr = unaryExpr(op, t);
    if (expr === null) throw new NotImplementedError(`${op} on ${x.dtype} (${shapeOf(x)})`);
    const outType: DType = op === 'not' || op === 'isnan' ? 'bool' : x.dtype;
    return mapNew(rt, label, outType, x.shape, [{ view: x, type: t }], expr, ERF);
  });
}

export function binary(rt: GpuRuntime, op: BinaryOp, a: View, b: View): BackendStorage {
  const label = `${op} ${a.dtype} ${shapeOf(a)}, ${b.dtype} ${shapeOf(b)}`;
  return rt.op(label, () => {
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      throw new ShapeError(`webgpu ${op}: operands ${shapeOf(a)} and ${shapeOf(b)} must have one shape (broadcast by strides)`);
    }
    if (a.dtype !== b.dtype) throw new DTypeError(`webgpu ${op}: operand dtypes ${a.dtype} and ${b.dtype} differ`);
    const t = rt.scalar(a.dtype, op);
    const expr = binaryExpr(op, t);
    if (expr === null) throw new NotImplementedError(`${op} on ${a.dtype} (${shapeOf(a)})`);
    const outType: DType = COMPARISON_OPS.has(op) ? 'bool' : a.dtype;
    return mapNew(rt, label, outType, a.shape, [{ view: a, type: t }, { view: b, type: t }], expr, POW);
  });
}

export function where(rt: GpuRuntime, cond: View, a: View, b: View): BackendStorage {
  const label = `where ${shapeOf(cond)}, ${a.dtype} ${shapeOf(a)}, ${shapeOf(b)}`;
  return rt.op(label, () => {
    const t = rt.scalar(a.dtype, 'where');
    const tc = rt.scalar(cond.dtype, 'where');
    const zero = tc === 'f32' ? '0.0' : tc === 'i32' ? '0' : '0u';
    return mapNew(rt, label, a.dtype, a.shape, [{ view: cond, type: tc }, { view: a, type: t }, { view: b, type: t }], `select(c, b, a != ${zero})`);
  });
}
