import { type BackendStorage, type View, selectTopkAbs } from '@siftjs/tensor';
import { type CudaDevice, storageOf } from '../device.js';
import { bytes, collapse, i64, packGeo, ptr } from '../geometry.js';
import { launch } from '../launch.js';
import { readBytesSync } from '../staging.js';
import { free } from './free.js';
import { gatherFlat } from './gatherFlat.js';
import { topkAbsKernel } from './topkAbs.cu.js';
import { upload } from './upload.js';

/**
 * Magnitudes on the device, selection on the host (a synchronous read; `selectTopkAbs` of @siftjs/tensor, which
 * keeps the ties rule): SIFT selects once per run, so this is not on the training step's path. Values are then gathered on the device.
 */
export function topkAbs(dev: CudaDevice, x: View, k: number): { values: BackendStorage; indices: BackendStorage } {
  const n = x.shape.reduce((a, b) => a * b, 1);
  const mags = dev.make('float64', n);
  const walk = collapse(x.shape, [x.strides]);
  launch(dev, topkAbsKernel(x.dtype, walk.shape.length), n, [ptr(storageOf(x.storage).ptr), ptr(mags.ptr), i64(n), bytes(packGeo(walk, [x.offset]))]);
  const raw = readBytesSync(dev, mags.ptr, n * 8);
  free(dev, mags);
  const mag = new Float64Array(raw.buffer, raw.byteOffset, n);
  const order = selectTopkAbs(mag, k);
  const indices = upload(dev, 'int32', order);
  const values = gatherFlat(dev, x, { storage: indices, dtype: 'int32', shape: [k], strides: [1], offset: 0 });
  return { values, indices };
}
