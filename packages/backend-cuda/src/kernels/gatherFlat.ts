import type { BackendStorage, View } from '@siftjs/tensor';
import { type CudaDevice, storageOf } from '../device.js';
import { bytes, collapse, i64, packGeo, ptr } from '../geometry.js';
import { errorWord, launch } from '../launch.js';
import { contiguousInts } from './cast.js';
import { free } from './free.js';
import { gatherFlatKernel } from './gatherFlat.cu.js';

/** One thread per index; x is read through its (merged) strides. */
export function gatherFlat(dev: CudaDevice, x: View, idx: View): BackendStorage {
  const ids = contiguousInts(dev, idx);
  const out = dev.make(x.dtype, ids.n);
  const size = x.shape.reduce((a, b) => a * b, 1);
  const walk = collapse(x.shape, [x.strides]);
  launch(dev, gatherFlatKernel(x.dtype, walk.shape.length), ids.n, [ptr(storageOf(x.storage).ptr), ptr(ids.p), ptr(out.ptr), i64(ids.n), i64(size), bytes(packGeo(walk, [x.offset])), errorWord(dev)]);
  if (ids.tmp) free(dev, ids.tmp);
  return out;
}
