import type { DType, View } from '@siftjs/tensor';
import { type CudaDevice, type CudaStorage, storageOf } from './device.js';
import { ARG_BYTES, ARG_SLOTS } from './arg-block.js';
import * as F from './ffi.js';
import { type Arg, bytes, collapse, contiguousStridesOf, i64, packArgs, packGeo, ptr } from './geometry.js';
import { type KernelSource, ROW_BLOCK } from './kernels/common.cu.js';

/**
 * Launching a kernel: its module loaded through the compiler (compiler.ts: NVRTC, then cuModuleLoadData), its
 * arguments packed (geometry.ts's packArgs) into one native block whose slot addresses are cuLaunchKernel's
 * kernelParams, and a 1-D grid over the work items.
 */

/** Threads per block of the grid-stride kernels. */
export const BLOCK = 256;

/** Enqueues `k` over `items` work items (grid capped at `gridCap` blocks; the kernels loop over the rest). */
export function launch(dev: CudaDevice, k: KernelSource, items: number, args: Arg[], block = BLOCK, gridCap = 65535): void {
  if (items <= 0) return;
  const fn = dev.compiler.get(k);
  const { data, offsets } = packArgs(args);
  if (data.length > ARG_BYTES || offsets.length > ARG_SLOTS) throw new Error(`${k.name}: too many kernel arguments`);
  const kf = F.koffi();
  new Uint8Array(kf.view(dev.args.data, ARG_BYTES)).set(data);
  const ptrs = new DataView(kf.view(dev.args.ptrs, 8 * ARG_SLOTS));
  offsets.forEach((o, i) => ptrs.setBigUint64(8 * i, dev.args.base + BigInt(o), true));
  const grid = Math.min(Math.ceil(items / block), gridCap);
  F.checkDriver(dev.d, `cuLaunchKernel (${k.name})`, dev.d.cuLaunchKernel(fn, grid, 1, 1, block, 1, 1, 0, dev.stream, dev.args.ptrs, null));
}

/** One row per block kernels (softmax, the norms). */
export function launchRows(dev: CudaDevice, k: KernelSource, rows: number, args: Arg[]): void {
  if (rows <= 0) return;
  launch(dev, k, rows * ROW_BLOCK, args, ROW_BLOCK);
}

/** Where a strided map writes: a base pointer and the geometry of the output. */
export interface MapOutput {
  p: bigint;
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
}

/** The generic strided map (kernels/map.cu.ts): operand 0 the output geometry, then the inputs. */
export function launchMap(dev: CudaDevice, k: (rank: number) => KernelSource, out: MapOutput, ins: View[]): void {
  const n = out.shape.reduce((a, b) => a * b, 1);
  if (n === 0) return;
  const walk = collapse(out.shape, [out.strides, ...ins.map((v) => v.strides)]);
  const geo = packGeo(walk, [out.offset, ...ins.map((v) => v.offset)]);
  // Base pointers are the storages' (offsets travel in Geo, in elements).
  launch(dev, k(walk.shape.length), n, [...ins.map((v) => ptr(storageOf(v.storage).ptr)), ptr(out.p), i64(n), bytes(geo)]);
}

/** The strided map into a fresh contiguous storage of `shape` (unary, binary, where, cast). */
export function launchMapFresh(dev: CudaDevice, k: (rank: number) => KernelSource, dtype: DType, shape: readonly number[], ins: View[]): CudaStorage {
  const s = dev.make(dtype, shape.reduce((a, b) => a * b, 1));
  launchMap(dev, k, { p: s.ptr, shape, strides: contiguousStridesOf(shape), offset: 0 }, ins);
  return s;
}

/** The device error word as a kernel argument (the indexing kernels and adamwIncrement report bad indices there). */
export function errorWord(dev: CudaDevice): Arg {
  return ptr(dev.errWord!.ptr);
}
