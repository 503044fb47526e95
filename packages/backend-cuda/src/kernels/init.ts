import type { CudaDevice } from '../device.js';

/** Binds the libraries and sets up the context, stream, cuBLAS and allocator (device.ts); idempotent. */
export async function init(dev: CudaDevice): Promise<void> {
  dev.start();
}
