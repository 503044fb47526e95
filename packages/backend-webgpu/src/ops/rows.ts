/**
 * Kernels over the rows of a contiguous view, one workgroup per row: softmax and log-softmax, layer norm and RMS
 * norm, forward and backward (wgsl/softmax.ts, wgsl/norm.ts). On a device allowing few storage buffers per
 * kernel, the per-column vectors and the statistics are packed into one temporary buffer.
 */
import { type BackendStorage, DTypeError, type NormBackward, type NormForward, type NormGradients, type NormStats, ShapeError, type View, sizeOf } from '@siftjs/tensor';
import { type GpuRuntime, type GpuStorage, shapeOf } from '../runtime.js';
import { Params, floorPow2, grid } from '../wgsl/common.js';
import { normBindings, normDxSource, normForwardSource, normParamsSource, paramStrip } from '../wgsl/norm.js';
import { softmaxBackwardSource, softmaxSource } from '../wgsl/softmax.js';

function rowsWorkgroup(rt: GpuRuntime, cols: number): number {
  // Enough invocations for the row, within the device's limits.
  return Math.max(1, Math.min(rt.wg, floorPow2(Math.max(32, cols))));
}

export function softmax(rt: GpuRuntime, x: View, cols: number, log: boolean): BackendStorage {
  const label = `${log ? 'logSoftmax' : 'softmax'} ${x.dtype} ${shapeOf(x)} rows of ${cols}`;
  return rt.op(label, () => {
    if (x.dtype !== 'float32') throw new DTypeError(`webgpu ${label}: float32 only`);
    const n = sizeOf(x.shape);
    const out = rt.make('float32', n, 'softmax');
    if (n === 0 || cols === 0) return out;
    const rows = n / cols;
    const wg = rowsWorkgroup(rt, cols);
    const p = new Params().u32(rows).u32(cols).u32(x.offset).u32(0);
    rt.launch(label, softmaxSource(wg, log), p, [out.buffer, rt.buf(x.storage, label)], grid(rows, rt.limits.maxComputeWorkgroupsPerDimension));
    return out;
  });
}

export function softmaxBackward(rt: GpuRuntime, y: View, dy: View, cols: number, log: boolean): BackendStorage {
  const label = `${log ? 'logSoftmax' : 'softmax'} backward ${y.dtype} ${shapeOf(y)} rows of ${cols}`;
  return rt.op(label, () => {
    if (y.dtype !== 'float32' || dy.dtype !== 'float32') throw new DTypeError(`webgpu ${label}: float32 only`);
    const n = sizeOf(y.shape);
    const out = rt.make('float32', n, 'softmaxBackward');
    if (n === 0 || cols === 0) return out;
    const rows = n / cols;
    const wg = rowsWorkgroup(rt, cols);
    const p = new Params().u32(rows).u32(cols).u32(y.offset).u32(dy.offset);
    const bufs = [out.buffer, rt.buf(y.storage, label), rt.buf(dy.storage, label)];
    rt.launch(label, softmaxBackwardSource(wg, log), p, bufs, grid(rows, rt.limits.maxComputeWorkgroupsPerDimension));
    return out;
  });
}

/** Rows of `cols` in a contiguous view, float32 operands, per-column vectors of `cols` elements. */
function normRows(label: string, x: View, cols: number, vectors: (View | null)[], others: View[] = []): number {
  for (const v of [x, ...vectors, ...others]) {
    if (v && v.dtype !== 'float32') throw new DTypeError(`webgpu ${label}: float32 only, got ${v.dtype}`);
  }
  const n = sizeOf(x.shape);
  if (cols === 0) return 0;
  if (!Number.isInteger(cols) || cols < 0 || n % cols !== 0) throw new ShapeError(`webgpu ${label}: ${shapeOf(x)} is not rows of ${cols}`);
  for (const v of [...vectors, ...others]) {
    if (v && sizeOf(v.shape) !== (vectors.includes(v) ? cols : n)) throw new ShapeError(`webgpu ${label}: operand ${shapeOf(v)} does not fit rows of ${cols}`);
  }
  return n / cols;
}

/** Copies small vectors into one fresh buffer (for kernels that would bind more storage buffers than allowed). */
function packVectors(rt: GpuRuntime, op: string, parts: { buffer: GPUBuffer; offset: number; length: number }[]): { storage: GpuStorage; offsets: number[] } {
  const total = parts.reduce((a, p) => a + p.length, 0);
  const storage = rt.make('float32', total, op);
  const offsets: number[] = [];
  let at = 0;
  for (const p of parts) {
    offsets.push(at);
    if (p.length > 0) rt.encoder.copy(p.buffer, p.offset * 4, storage.buffer, at * 4, p.length * 4);
    at += p.length;
  }
  return { storage, offsets };
}

/** Vectors as bindings: their own buffers and offsets, or packed into one temporary buffer. */
function bindVectors(rt: GpuRuntime, op: string, parts: { buffer: GPUBuffer; offset: number; length: number }[], packed: boolean, temps: GpuStorage[]): { buffers: GPUBuffer[]; offsets: number[] } {
  if (!packed || parts.length === 0) return { buffers: parts.map((p) => p.buffer), offsets: parts.map((p) => p.offset) };
  const { storage, offsets } = packVectors(rt, op, parts);
  temps.push(storage);
  return { buffers: [storage.buffer], offsets };
}

export function normForward(rt: GpuRuntime, op: 'layerNorm' | 'rmsNorm', x: View, weight: View | null, bias: View | null, cols: number, eps: number, centred: boolean): NormForward {
  const label = `${op} ${x.dtype} ${shapeOf(x)} rows of ${cols}${weight ? `, weight ${shapeOf(weight)}` : ''}${bias ? `, bias ${shapeOf(bias)}` : ''}`;
  return rt.op(label, () => {
    const rows = normRows(label, x, cols, [weight, bias]);
    const n = rows * cols;
    const y = rt.make('float32', n, op);
    const rstd = rt.make('float32', rows, op);
    const mean = centred ? rt.make('float32', rows, op) : undefined;
    if (n === 0) return { y, rstd, mean };
    const packed = rt.tooMany(normBindings('forward', centred, !!weight, !!bias));
    const temps: GpuStorage[] = [];
    const ins = [weight, bias].filter((v): v is View => v !== null).map((v) => ({ buffer: rt.buf(v.storage, label), offset: v.offset, length: cols }));
    const vin = bindVectors(rt, op, ins, packed, temps);
    const stats = packed ? rt.make('float32', (centred ? 2 : 1) * rows, op) : null;
    if (stats) temps.push(stats);
    const outs = stats ? [stats.buffer] : [...(mean ? [mean.buffer] : []), rstd.buffer];
    const p = new Params().u32(rows).u32(cols).u32(x.offset).f32(eps);
    p.u32(weight ? vin.offsets[0] : 0).u32(bias ? vin.offsets[weight ? 1 : 0] : 0);
    p.u32(0).u32(stats && centred ? rows : 0);
    const source = normForwardSource({ wg: rowsWorkgroup(rt, cols), centred, weight: !!weight, bias: !!bias, packed });
    rt.launch(label, source, p, [y.buffer, rt.buf(x.storage, label), ...vin.buffers, ...outs], grid(rows, rt.limits.maxComputeWorkgroupsPerDimension));
    if (stats) {
      if (mean) rt.encoder.copy(stats.buffer, 0, mean.buffer, 0, rows * 4);
      rt.encoder.copy(stats.buffer, centred ? rows * 4 : 0, rstd.buffer, 0, rows * 4);
    }
    for (const t of temps) rt.free(t);
    return { y, rstd, mean };
  });
}

export function normBackward(
  rt: GpuRuntime,
  op: string,
  dy: View,
  x: View,
  weight: View | null,
  stats: NormStats,
  cols: number,
  centred: boolean,
  wanted: NormGradients,
): NormBackward {
  const label = `${op} ${x.dtype} ${shapeOf(x)} rows of ${cols}${weight ? `, weight ${shapeOf(weight)}` : ''}`;
  return rt.op(label, () => {
    const rows = normRows(label, x, cols, [weight], [dy]);
    const n = rows * cols;
    // Only the gradients asked for: a frozen weight's or bias's is neither allocated nor summed.
    const dx = wanted.input ? rt.make('float32', n, op) : null;
    const dweight = weight && wanted.weight ? rt.zeros('float32', cols, op) : null;
    const dbias = centred && wanted.bias ? rt.zeros('float32', cols, op) : null;
    if (n === 0) return { dx, dweight, dbias };
    if (centred && !stats.mean) throw new ShapeError(`webgpu ${label}: layer norm statistics without the mean`);
    const stat = (s: BackendStorage) => ({ buffer: rt.buf(s, label), offset: 0, length: rows });
    const meanV = centred ? [stat(stats.mean!)] : [];
    const rstdV = stat(stats.rstd);
    const temps: GpuStorage[] = [];
    const has = { wg: rowsWorkgroup(rt, cols), centred, weight: !!weight, bias: false };
    const [xb, dyb] = [rt.buf(x.storage, label), rt.buf(dy.storage, label)];

    // dx: one workgroup per row.
    if (dx) {
      const dxPacked = rt.tooMany(normBindings('dx', centred, !!weight, false));
      const wV = weight ? [{ buffer: rt.buf(weight.storage, label), offset: weight.offset, length: cols }] : [];
      const vin = bindVectors(rt, op, [...wV, ...meanV, rstdV], dxPacked, temps);
      const at = (k: number) => vin.offsets[k];
      const p = new Params().u32(rows).u32(cols).u32(x.offset).u32(dy.offset);
      p.u32(weight ? at(0) : 0).u32(centred ? at(wV.length) : 0).u32(at(wV.length + meanV.length));
      rt.launch(label, normDxSource({ ...has, packed: dxPacked }), p, [dx.buffer, xb, dyb, ...vin.buffers], grid(rows, rt.limits.maxComputeWorkgroupsPerDimension));
    }

    // dweight, dbias: column strips summed down the rows (the spec's weight / bias: which of them are written).
    if (dweight || dbias) {
      const outsWanted = { weight: dweight !== null, bias: dbias !== null };
      const packed = rt.tooMany(normBindings('params', centred, outsWanted.weight, outsWanted.bias));
      const outs = [dweight, dbias].filter((s): s is GpuStorage => s !== null);
      const sums = packed ? rt.make('float32', outs.length * cols, op) : null;
      if (sums) temps.push(sums);
      const sin = bindVectors(rt, op, [...meanV, rstdV], packed, temps);
      const q = new Params().u32(rows).u32(cols).u32(x.offset).u32(dy.offset);
      q.u32(centred ? sin.offsets[0] : 0).u32(sin.offsets[meanV.length]);
      q.u32(0).u32(sums && dweight ? cols : 0);
      const wg = rt.wg;
      const bufs = [...(sums ? [sums.buffer] : outs.map((s) => s.buffer)), xb, dyb, ...sin.buffers];
      rt.launch(label, normParamsSource({ ...has, ...outsWanted, wg, packed }), q, bufs, grid(Math.ceil(cols / paramStrip(wg)), rt.limits.maxComputeWorkgroupsPerDimension));
      if (sums) outs.forEach((s, k) => rt.encoder.copy(sums.buffer, k * cols * 4, s.buffer, 0, cols * 4));
    }
    for (const t of temps) rt.free(t);
    return { dx, dweight, dbias };
  });
}
