/** Philox random numbers, the same stream as @siftjs/tensor's CPU generator (wgsl/random.ts). */
import { type BackendStorage, type DType, DTypeError } from '@siftjs/tensor';
import type { GpuRuntime, GpuStorage } from '../runtime.js';
import { Params } from '../wgsl/common.js';
import { type RandomKind, randomSource } from '../wgsl/random.js';

export function random(rt: GpuRuntime, kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number): BackendStorage {
  const label = `random ${kind} ${dtype} ×${size}`;
  return rt.op(label, () => {
    if (dtype !== 'float32') {
      rt.scalar(dtype, label);
      throw new DTypeError(`webgpu ${label}: random numbers are float32, not ${dtype}`);
    }
    return philox(rt, label, kind, 'float32', size, seed, offset);
  });
}

/**
 * The raw Philox words (uint32 bit patterns, in an int32 storage) of the stream `random` draws from: element i
 * is word i mod 4 of block floor(i / 4), as @siftjs/tensor's philox.fillUint32.
 */
export function randomBits(rt: GpuRuntime, size: number, seed: readonly [number, number], offset: number): BackendStorage {
  const label = `random bits ×${size}`;
  return rt.op(label, () => philox(rt, label, 'bits', 'int32', size, seed, offset));
}

function philox(rt: GpuRuntime, label: string, kind: RandomKind, dtype: DType, size: number, seed: readonly [number, number], offset: number): GpuStorage {
  for (const w of seed) {
    if (!Number.isInteger(w) || w < 0 || w >= 2 ** 32) throw new RangeError(`webgpu ${label}: seed words must be integers in [0, 2^32), got [${seed.join(', ')}]`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`webgpu ${label}: offset must be a non-negative integer below 2^53, got ${offset}`);
  const out = rt.make(dtype, size, 'random');
  if (size > 0) {
    const p = new Params().u32(size).u32(seed[0]).u32(seed[1]).u32(offset % 2 ** 32).u32(Math.floor(offset / 2 ** 32));
    rt.launch(label, randomSource(kind, rt.wg), p, [out.buffer], rt.groups(Math.ceil(size / 4)));
  }
  return out;
}
