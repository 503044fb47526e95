/** Backend.upload: host data into a fresh storage (bool widened to one u32 per element). */
import type { BackendStorage, DType, TypedArray } from '@siftjs/tensor';
import type { GpuRuntime } from '../runtime.js';

export function upload(rt: GpuRuntime, dtype: DType, data: TypedArray): BackendStorage {
  return rt.op(`upload ${dtype} ×${data.length}`, () => {
    const s = rt.make(dtype, data.length, 'upload');
    if (data.length > 0) {
      const words = dtype === 'bool' ? Uint32Array.from(data as Uint8Array) : data;
      // writeBuffer runs on the queue before anything still unsubmitted: submit first, since a pooled buffer
      // may still be read by recorded kernels.
      rt.encoder.flush();
      rt.device.queue.writeBuffer(s.buffer, 0, words.buffer, words.byteOffset, s.bytes);
    }
    return s;
  });
}
