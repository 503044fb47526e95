import type { BackendStorage, DType, View } from '@siftjs/tensor';
import { type CudaDevice, addressOf, storageOf } from '../device.js';
import { i64, ptr } from '../geometry.js';
import { errorWord, launch } from '../launch.js';
import { contiguousInts } from './cast.js';
import { free } from './free.js';
import { scatterFlatKernel } from './scatterFlat.cu.js';

/** In place, one thread per index ('add' atomically). */
export function scatterFlat(dev: CudaDevice, dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void {
  const ids = contiguousInts(dev, idx);
  const d = storageOf(dst);
  launch(dev, scatterFlatKernel(dtype, mode), ids.n, [ptr(d.ptr), ptr(ids.p), ptr(addressOf(src)), i64(ids.n), i64(d.size), errorWord(dev)]);
  if (ids.tmp) free(dev, ids.tmp);
}
