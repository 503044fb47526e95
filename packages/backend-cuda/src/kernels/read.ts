import { type BackendStorage, type DType, type TypedArray, bytesPerElement, makeArray } from '@siftjs/tensor';
import { type CudaDevice, storageOf } from '../device.js';
import { afterStream, readBytesSync } from '../staging.js';

/** Waits for the stream without blocking the event loop, then copies the bytes out through a pinned buffer. */
export async function read(dev: CudaDevice, storage: BackendStorage, dtype: DType, size: number): Promise<TypedArray> {
  const s = storageOf(storage);
  const n = size * bytesPerElement(dtype);
  await afterStream(dev, () => {});
  const raw = readBytesSync(dev, s.ptr, n);
  const out = makeArray(dtype, size);
  new Uint8Array(out.buffer).set(raw);
  return out;
}
