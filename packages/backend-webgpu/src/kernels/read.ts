/**
 * Backend.read: the only wait. Copies the storage into a staging buffer (memory/readback.ts), submits, maps it,
 * then throws the first GPU error or out-of-range index recorded since the last read.
 */
import { type BackendStorage, type DType, DTypeError, type TypedArray } from '@siftjs/tensor';
import { WebGpuError } from '../errors.js';
import type { GpuRuntime } from '../runtime.js';
import { wordsFor } from '../wgsl/common.js';

export async function read(rt: GpuRuntime, storage: BackendStorage, dtype: DType, size: number): Promise<TypedArray> {
  rt.encoder.checkAlive('read');
  const buffer = rt.buf(storage, 'read');
  if (dtype === 'float64') throw new DTypeError('webgpu read: float64 is not supported on WebGPU');
  const bytes = wordsFor(dtype, size) * 4;
  let raw: ArrayBuffer;
  if (size === 0) {
    raw = new ArrayBuffer(0);
  } else {
    const staging = rt.staging.acquire(bytes);
    rt.encoder.copy(buffer, 0, staging, 0, bytes);
    rt.encoder.flush();
    try {
      raw = await rt.staging.read(staging, bytes);
    } catch (e) {
      await rt.encoder.check();
      throw new WebGpuError(`webgpu read of ${size} ${dtype}: ${(e as Error).message}`);
    }
  }
  await rt.encoder.check();
  await rt.indexErrors.check(rt.encoder);
  switch (dtype) {
    case 'float32':
      return new Float32Array(raw);
    case 'int32':
      return new Int32Array(raw);
    case 'bool':
      return Uint8Array.from(new Uint32Array(raw));
    case 'float16':
    case 'bfloat16':
      // the 16-bit patterns (an odd count leaves the last word's high half out)
      return new Uint16Array(raw, 0, size);
  }
}
