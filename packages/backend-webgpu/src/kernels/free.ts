/** Backend.free: the storage's buffer back to the pool (a second free is an error). */
import type { BackendStorage } from '@siftjs/tensor';
import type { GpuRuntime } from '../runtime.js';

export function free(rt: GpuRuntime, storage: BackendStorage): void {
  rt.free(storage);
}
