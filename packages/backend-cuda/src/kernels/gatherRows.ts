import type { BackendStorage, View } from '@siftjs/tensor';
import { type CudaDevice, storageOf } from '../device.js';
import { i64, ptr } from '../geometry.js';
import { errorWord, launch } from '../launch.js';
import { contiguousInts } from './cast.js';
import { gatherRowsKernel } from './gatherRows.cu.js';
import { free } from './free.js';

/** One thread per output element; the table is read through its own strides. */
export function gatherRows(dev: CudaDevice, table: View, ids: View): BackendStorage {
  const [v, d] = table.shape;
  const idx = contiguousInts(dev, ids);
  const out = dev.make(table.dtype, idx.n * d);
  const n = idx.n * d;
  launch(dev, gatherRowsKernel(table.dtype), n, [ptr(storageOf(table.storage).ptr), ptr(idx.p), ptr(out.ptr), i64(n), i64(d), i64(v), i64(table.offset), i64(table.strides[0]), i64(table.strides[1]), errorWord(dev)]);
  if (idx.tmp) free(dev, idx.tmp);
  return out;
}
