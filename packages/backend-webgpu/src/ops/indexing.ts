/**
 * Gathers and scatters by index (wgsl/indexing.ts). Scatter-adds sort the ids first, so repeated ids add in
 * order (the CPU's sums, bit for bit); an index out of range is recorded and reported at the next read.
 */
import { type BackendStorage, type DType, DTypeError, ShapeError, type View, sizeOf } from '@siftjs/tensor';
import { type GpuRuntime, type GpuStorage, shapeOf } from '../runtime.js';
import { Params, collapse } from '../wgsl/common.js';
import { IndexOp, gatherFlatSource, gatherRowsSource, scatterAddSource, scatterRowsSource, scatterSetSource } from '../wgsl/indexing.js';
import { cast, copy } from './elementwise.js';
import { sortedIds } from './sort.js';

/**
 * A view's elements in row-major order as (buffer, offset): the view itself when it is contiguous, else a
 * contiguous copy (or, for indices of another dtype, an int32 cast) in `tmp`, which the caller frees.
 */
export function flat(rt: GpuRuntime, v: View, op: string, dtype: DType = v.dtype): { buffer: GPUBuffer; offset: number; n: number; tmp: GpuStorage | null } {
  const n = sizeOf(v.shape);
  const c = collapse(v.shape, [v.strides]);
  if (v.dtype === dtype && (c.shape.length === 0 || (c.shape.length === 1 && c.strides[0][0] === 1))) {
    return { buffer: rt.buf(v.storage, op), offset: v.offset, n, tmp: null };
  }
  const tmp = (v.dtype === dtype ? copy(rt, v) : cast(rt, v, dtype)) as GpuStorage;
  return { buffer: tmp.buffer, offset: 0, n, tmp };
}

export function gatherRows(rt: GpuRuntime, table: View, ids: View): BackendStorage {
  const label = `gatherRows ${table.dtype} table ${shapeOf(table)}, ids ${ids.dtype} ${shapeOf(ids)}`;
  return rt.op(label, () => {
    if (table.shape.length !== 2) throw new ShapeError(`webgpu ${label}: the table must be [rows, cols]`);
    const t = rt.scalar(table.dtype, label);
    const [V, D] = table.shape;
    const idx = flat(rt, ids, label, 'int32');
    const n = idx.n * D;
    const out = rt.make(table.dtype, n, 'gatherRows');
    if (n > 0) {
      const p = new Params().u32(n).u32(D).u32(V).i32(table.offset).i32(table.strides[0]).i32(table.strides[1]).u32(idx.offset);
      rt.launch(label, gatherRowsSource(t, rt.wg), p, [out.buffer, rt.buf(table.storage, label), idx.buffer, rt.indexErrors.use()], rt.groups(n));
    }
    if (idx.tmp) rt.free(idx.tmp);
    return out;
  });
}

export function scatterAddRows(rt: GpuRuntime, rows: number, ids: View, src: View): BackendStorage {
  const label = `scatterAddRows ${src.dtype} into ${rows} rows, ids ${shapeOf(ids)}, src ${shapeOf(src)}`;
  return rt.op(label, () => {
    const t = rt.scalar(src.dtype, label);
    const D = src.shape[src.shape.length - 1] ?? 1;
    const idx = flat(rt, ids, label, 'int32');
    if (sizeOf(src.shape) !== idx.n * D) throw new ShapeError(`webgpu ${label}: src must hold one row of ${D} per id`);
    const out = rt.zeros(src.dtype, rows * D, 'scatterAddRows');
    if (idx.n * D > 0) {
      const s = flat(rt, src, label);
      const pairs = sortedIds(rt, label, idx);
      const p = new Params().u32(idx.n * D).u32(D).u32(rows).u32(s.offset).u32(idx.n);
      rt.launch(label, scatterRowsSource(t, rt.wg), p, [out.buffer, pairs.buffer, s.buffer, rt.indexErrors.use()], rt.groups(idx.n * D));
      rt.free(pairs);
      if (s.tmp) rt.free(s.tmp);
    }
    if (idx.tmp) rt.free(idx.tmp);
    return out;
  });
}

export function gatherFlat(rt: GpuRuntime, x: View, idx: View): BackendStorage {
  const label = `gatherFlat ${x.dtype} ${shapeOf(x)}, idx ${shapeOf(idx)}`;
  return rt.op(label, () => {
    const t = rt.scalar(x.dtype, label);
    const ids = flat(rt, idx, label, 'int32');
    const out = rt.make(x.dtype, ids.n, 'gatherFlat');
    if (ids.n > 0) {
      const c = collapse(x.shape, [x.strides]);
      const rank = c.shape.length;
      const p = new Params().u32(ids.n).u32(sizeOf(x.shape)).u32(ids.offset);
      for (const d of c.shape) p.u32(d);
      p.i32(x.offset);
      for (const s of c.strides[0]) p.i32(s);
      rt.launch(label, gatherFlatSource(t, rank, rt.wg), p, [out.buffer, rt.buf(x.storage, label), ids.buffer, rt.indexErrors.use()], rt.groups(ids.n));
    }
    if (ids.tmp) rt.free(ids.tmp);
    return out;
  });
}

export function scatterFlat(rt: GpuRuntime, dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
  const label = `scatterFlat ${mode} ${dtype}, idx ${shapeOf(idx)}, src ${src.dtype} ${shapeOf(src)}`;
  rt.op(label, () => {
    const t = rt.scalar(dtype, label);
    if (src.dtype !== dtype) throw new DTypeError(`webgpu ${label}: src is ${src.dtype}, the destination ${dtype}`);
    const d = rt.buf(dst, label);
    const size = (dst as GpuStorage).size;
    const ids = flat(rt, idx, label, 'int32');
    if (sizeOf(src.shape) !== ids.n) throw new ShapeError(`webgpu ${label}: ${sizeOf(src.shape)} values for ${ids.n} indices`);
    if (ids.n > 0) {
      const s = flat(rt, src, label);
      if (mode === 'set') {
        const p = new Params().u32(ids.n).u32(size).u32(ids.offset).u32(s.offset).u32(IndexOp.scatterFlat);
        rt.launch(label, scatterSetSource(t, rt.wg), p, [d, ids.buffer, s.buffer, rt.indexErrors.use()], rt.groups(ids.n));
      } else {
        const pairs = sortedIds(rt, label, ids);
        const p = new Params().u32(ids.n).u32(size).u32(s.offset);
        rt.launch(label, scatterAddSource(t, rt.wg), p, [d, pairs.buffer, s.buffer, rt.indexErrors.use()], rt.groups(ids.n));
        rt.free(pairs);
      }
      if (s.tmp) rt.free(s.tmp);
    }
    if (ids.tmp) rt.free(ids.tmp);
  });
}
