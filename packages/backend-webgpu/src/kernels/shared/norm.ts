/**
 * What layer norm and RMS norm, forward and backward, share. Small vectors (w, b, mean, rstd, dw, db) are
 * separate bindings, unless that is more storage buffers than the device allows: then `packed` kernels read the
 * inputs from one buffer (copied in, each at its own offset word) and write the outputs to one buffer (copied
 * out). The vectors are per row or per column, so packing copies a sliver of what the kernel reads.
 *
 * float16 / bfloat16: the [rows, cols] operands (x, dy, and the outputs y, dx) are read and written in their
 * format by the kernels' accessors; the small vectors are always f32 in the kernels — half weights and biases are
 * widened into an f32 copy first (`f32Vector`) and half parameter gradients rounded from an f32 result after
 * (`narrowed`). The statistics (mean, rstd) stay f32 both ways: the contract's `opmathDtype` of a half x.
 */
import { type DType, DTypeError, ShapeError, type View, contiguousStrides, isFloat, sizeOf } from '@siftjs/tensor';
import type { GpuStorage } from '../../memory/storage.js';
import { type GpuRuntime, shapeOf } from '../../runtime.js';
import { pu, storage } from '../../wgsl/common.js';
import { cast } from '../cast.js';

/** Rows of `cols` in a contiguous view, float operands, per-column vectors of `cols` elements. */
export function normRows(label: string, x: View, cols: number, vectors: (View | null)[], others: View[] = []): number {
  for (const v of [x, ...vectors, ...others]) {
    if (v && (!isFloat(v.dtype) || v.dtype === 'float64')) throw new DTypeError(`webgpu ${label}: float32, float16 or bfloat16 only, got ${v.dtype}`);
  }
  const n = sizeOf(x.shape);
  if (cols === 0) return 0;
  if (!Number.isInteger(cols) || cols < 0 || n % cols !== 0) throw new ShapeError(`webgpu ${label}: ${shapeOf(x)} is not rows of ${cols}`);
  for (const v of [...vectors, ...others]) {
    if (v && sizeOf(v.shape) !== (vectors.includes(v) ? cols : n)) throw new ShapeError(`webgpu ${label}: operand ${shapeOf(v)} does not fit rows of ${cols}`);
  }
  return n / cols;
}

/** A vector of `length` elements as f32 in a buffer: a float32 view itself, a half one widened into a copy (in `temps`). */
export function f32Vector(rt: GpuRuntime, v: View, length: number, op: string, temps: GpuStorage[]): { buffer: GPUBuffer; offset: number; length: number } {
  if (v.dtype === 'float32') return { buffer: rt.buf(v.storage, op), offset: v.offset, length };
  const w = cast(rt, v, 'float32') as GpuStorage;
  temps.push(w);
  return { buffer: w.buffer, offset: 0, length };
}

/** The f32 storage `s` of `size` elements as `dtype`: itself for float32, else rounded into a new storage (and `s` freed). */
export function narrowed(rt: GpuRuntime, s: GpuStorage, dtype: DType, size: number): GpuStorage {
  if (dtype === 'float32') return s;
  const out = cast(rt, { storage: s, dtype: 'float32', shape: [size], strides: contiguousStrides([size]), offset: 0 }, dtype) as GpuStorage;
  rt.free(s);
  return out;
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
export function bindVectors(rt: GpuRuntime, op: string, parts: { buffer: GPUBuffer; offset: number; length: number }[], packed: boolean, temps: GpuStorage[]): { buffers: GPUBuffer[]; offsets: number[] } {
  if (!packed || parts.length === 0) return { buffers: parts.map((p) => p.buffer), offsets: parts.map((p) => p.offset) };
  const { storage, offsets } = packVectors(rt, op, parts);
  temps.push(storage);
  return { buffers: [storage.buffer], offsets };
}

/** Accessors for the named f32 vectors, bound from `first` on, or all read from / written to one packed buffer. */
export function vectors(names: string[], first: number, packed: boolean, write: boolean, offsetWord: (k: number) => number): { decls: string; bindings: number } {
  if (names.length === 0) return { decls: '', bindings: 0 };
  const lines: string[] = [];
  const buf = (k: number) => (packed ? `${write ? 'outv' : 'inv'}` : `${names[k]}_buf`);
  if (packed) lines.push(storage(first, buf(0), 'f32', write));
  names.forEach((name, k) => {
    if (!packed) lines.push(storage(first + k, buf(k), 'f32', write));
    const at = `${pu(offsetWord(k))} + i`;
    lines.push(write ? `fn set_${name}(i: u32, v: f32) { ${buf(k)}[${at}] = v; }` : `fn ${name}_at(i: u32) -> f32 { return ${buf(k)}[${at}]; }`);
  });
  return { decls: lines.join('\n'), bindings: packed ? 1 : names.length };
}

/** How many storage buffers each norm kernel binds, unpacked. */
export function normBindings(kind: 'forward' | 'dx' | 'params', centred: boolean, weight: boolean, bias: boolean): number {
  if (kind === 'forward') return 2 + (weight ? 1 : 0) + (bias ? 1 : 0) + (centred ? 2 : 1);
  if (kind === 'dx') return 3 + (weight ? 1 : 0) + (centred ? 1 : 0) + 1;
  // params: weight and bias say which of dw and db are written (a frozen one is not).
  return (weight ? 1 : 0) + (bias ? 1 : 0) + 2 + (centred ? 1 : 0) + 1;
}

export interface NormSpec {
  wg: number;
  centred: boolean;
  weight: boolean;
  bias: boolean;
  packed: boolean;
}

export function rowReduce(wg: number, arrays: string[]): string {
  return `workgroupBarrier();
    for (var step = ${wg / 2}u; step > 0u; step = step >> 1u) {
        if (lid < step) { ${arrays.map((a) => `${a}[lid] += ${a}[lid + step];`).join(' ')} }
        workgroupBarrier();
    }`;
}
