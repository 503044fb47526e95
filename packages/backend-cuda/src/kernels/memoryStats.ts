import type { BackendMemoryStats } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';

/** The allocator's figures, less the backend's own error word (not a tensor's). */
export function memoryStats(dev: CudaDevice): BackendMemoryStats {
  if (!dev.started) return { bytesInUse: 0, peakBytes: 0, bytesReserved: 0, allocations: 0 };
  const s = dev.allocator.stats();
  const err = dev.errWord ? dev.errWord.bytes : 0;
  return { bytesInUse: s.bytesInUse - err, peakBytes: s.peakBytes - err, bytesReserved: s.bytesReserved, allocations: s.allocations - (dev.errWord ? 1 : 0) };
}
