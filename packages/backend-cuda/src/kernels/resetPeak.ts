import type { CudaDevice } from '../device.js';

export function resetPeak(dev: CudaDevice): void {
  dev.allocator.resetPeak();
}
