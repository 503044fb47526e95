/** Backend.upload: host data into a fresh storage (bool widened to one u32 per element; halves as their 16-bit patterns). */
import { type BackendStorage, type DType, type TypedArray, isHalf } from '@siftjs/tensor';
import type { GpuRuntime } from '../runtime.js';

export function upload(rt: GpuRuntime, dtype: DType, data: TypedArray): BackendStorage {
  return rt.op(`upload ${dtype} ×${data.length}`, () => {
    const s = rt.make(dtype, data.length, 'upload');
    if (data.length > 0) {
      const words = dtype === 'bool' ? Uint32Array.from(data as Uint8Array) : isHalf(dtype) ? wordAligned(data as Uint16Array) : data;
      // writeBuffer runs on the queue before anything still unsubmitted: submit first, since a pooled buffer
      // may still be read by recorded kernels.
      rt.encoder.flush();
      rt.device.queue.writeBuffer(s.buffer, 0, words.buffer, words.byteOffset, s.bytes);
    }
    return s;
  });
}

/** 16-bit patterns as whole 32-bit words (writeBuffer writes multiples of 4 bytes): an odd count gets a zero pad. */
function wordAligned(bits: Uint16Array): Uint16Array {
  if (bits.length % 2 === 0 && bits.byteOffset % 4 === 0) return bits;
  const padded = new Uint16Array(bits.length + (bits.length % 2));
  padded.set(bits);
  return padded;
}
