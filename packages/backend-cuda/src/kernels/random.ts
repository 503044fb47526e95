import type { BackendStorage, DType } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';
import { i64, ptr, u32 } from '../geometry.js';
import { launch } from '../launch.js';
import { randomBlocks, randomKernel } from './random.cu.js';

/** One thread per Philox block; the 53-bit offset travels as two 32-bit words. */
export function random(dev: CudaDevice, kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number): BackendStorage {
  // (the random ops draw float32 or float64 only; a half tensor is a cast of those)
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`CUDA random: dtype ${dtype} is not float32 or float64`);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`philox: offset must be a non-negative integer below 2^53, got ${offset}`);
  const out = dev.make(dtype, size);
  const blocks = randomBlocks(kind, dtype, size);
  launch(dev, randomKernel(kind, dtype), blocks, [ptr(out.ptr), i64(size), u32(seed[0]), u32(seed[1]), u32(offset % 2 ** 32), u32(Math.floor(offset / 2 ** 32))]);
  return out;
}
