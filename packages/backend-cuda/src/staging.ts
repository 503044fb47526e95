import type { CudaDevice } from './device.js';
import * as F from './ffi.js';
import { INDEX_ERROR_OP } from './kernels/common.cu.js';

/**
 * Host ↔ device traffic through pinned (page-locked) host buffers, and events: dispatch never blocks, so an
 * upload's staging buffer is freed once the stream has passed its copy, and `read` waits for the stream by
 * polling an event from the event loop instead of blocking it.
 */

/** Copies host bytes to `dst` asynchronously; the pinned staging buffer lives until the stream has passed it. */
export function uploadBytes(dev: CudaDevice, dst: bigint, src: Uint8Array): void {
  const n = src.byteLength;
  const host: [unknown] = [null];
  F.checkDriver(dev.d, 'cuMemHostAlloc', dev.d.cuMemHostAlloc(host, n, F.CU_MEMHOSTALLOC_PORTABLE));
  new Uint8Array(F.koffi().view(host[0], n)).set(src);
  F.checkDriver(dev.d, 'cuMemcpyHtoDAsync_v2', dev.d.cuMemcpyHtoDAsync_v2(dst, host[0], n, dev.stream));
  afterStream(dev, () => dev.d.cuMemFreeHost(host[0]));
}

/** Runs `fn` once the stream has passed this point (an event, polled from the event loop). */
export function afterStream(dev: CudaDevice, fn: () => void): Promise<void> {
  const d = dev.d;
  const ev: [unknown] = [null];
  F.checkDriver(d, 'cuEventCreate', d.cuEventCreate(ev, F.CU_EVENT_DISABLE_TIMING));
  F.checkDriver(d, 'cuEventRecord', d.cuEventRecord(ev[0], dev.stream));
  return new Promise((resolve, reject) => {
    const poll = (delay: number) => {
      const rc = d.cuEventQuery(ev[0]);
      if (rc === F.CUDA_ERROR_NOT_READY) {
        setTimeout(() => poll(Math.min(delay * 2, 4)), delay);
        return;
      }
      d.cuEventDestroy_v2(ev[0]);
      try {
        F.checkDriver(d, 'cuEventQuery', rc);
        fn();
        resolve();
      } catch (e) {
        reject(e);
      }
    };
    setImmediate(() => poll(0));
  });
}

/** Blocking copy of device bytes to the host through a pinned buffer. */
export function readBytesSync(dev: CudaDevice, src: bigint, n: number): Uint8Array {
  const host: [unknown] = [null];
  F.checkDriver(dev.d, 'cuMemHostAlloc', dev.d.cuMemHostAlloc(host, Math.max(n, 1), F.CU_MEMHOSTALLOC_PORTABLE));
  try {
    F.checkDriver(dev.d, 'cuMemcpyDtoHAsync_v2', dev.d.cuMemcpyDtoHAsync_v2(host[0], src, n, dev.stream));
    F.checkDriver(dev.d, 'cuStreamSynchronize', dev.d.cuStreamSynchronize(dev.stream));
    throwDeviceErrors(dev);
    return new Uint8Array(F.koffi().view(host[0], Math.max(n, 1))).slice(0, n);
  } finally {
    dev.d.cuMemFreeHost(host[0]);
  }
}

/** After a synchronisation: an index error recorded by a kernel becomes the CPU backend's RangeError. */
function throwDeviceErrors(dev: CudaDevice): void {
  const d = dev.d;
  const host: [unknown] = [null];
  F.checkDriver(d, 'cuMemHostAlloc', d.cuMemHostAlloc(host, 16, F.CU_MEMHOSTALLOC_PORTABLE));
  try {
    F.checkDriver(d, 'cuMemcpyDtoHAsync_v2', d.cuMemcpyDtoHAsync_v2(host[0], dev.errWord!.ptr, 12, dev.stream));
    F.checkDriver(d, 'cuStreamSynchronize', d.cuStreamSynchronize(dev.stream));
    const [code, index, limit] = new Int32Array(F.koffi().view(host[0], 12).slice(0));
    if (code) {
      F.checkDriver(d, 'cuMemsetD8Async', d.cuMemsetD8Async(dev.errWord!.ptr, 0, 16, dev.stream));
      throw new RangeError(`${INDEX_ERROR_OP[code] ?? 'CUDA kernel'}: index ${index} is out of range for ${limit} elements`);
    }
  } finally {
    d.cuMemFreeHost(host[0]);
  }
}
