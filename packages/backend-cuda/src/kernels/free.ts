import type { BackendStorage } from '@siftjs/tensor';
import { type CudaDevice, storageOf } from '../device.js';

/** Back to the caching allocator's pool (work already enqueued on the one stream still runs first). */
export function free(dev: CudaDevice, storage: BackendStorage): void {
  dev.allocator.free(storageOf(storage).block);
}
