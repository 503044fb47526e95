import { type BackendStorage, type View, isHalf } from '@siftjs/tensor';
import { type CudaDevice, type CudaStorage, addressOf } from '../device.js';
import { i64, ptr } from '../geometry.js';
import { errorWord, launch } from '../launch.js';
import { alloc } from './alloc.js';
import { cast, contiguousInts } from './cast.js';
import { free } from './free.js';
import { scatterAddRowsKernel } from './scatterAddRows.cu.js';

/**
 * Atomic adds into a zeroed [rows, D] storage, one thread per source element. A float16 / bfloat16 src is summed
 * into a float32 storage and rounded once into its format at the end (not at every add).
 */
export function scatterAddRows(dev: CudaDevice, rows: number, ids: View, src: View): BackendStorage {
  const d = src.shape[src.shape.length - 1];
  const idx = contiguousInts(dev, ids);
  const half = isHalf(src.dtype);
  const out = alloc(dev, half ? 'float32' : src.dtype, rows * d) as CudaStorage;
  const n = idx.n * d;
  launch(dev, scatterAddRowsKernel(src.dtype), n, [ptr(idx.p), ptr(addressOf(src)), ptr(out.ptr), i64(n), i64(d), i64(rows), errorWord(dev)]);
  if (idx.tmp) free(dev, idx.tmp);
  if (!half) return out;
  const rounded = cast(dev, { storage: out, dtype: 'float32', shape: [rows * d], strides: [1], offset: 0 }, src.dtype);
  free(dev, out);
  return rounded;
}
