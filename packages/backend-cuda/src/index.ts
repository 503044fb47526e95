// @siftjs/backend-cuda — importing this module never throws; where CUDA is usable it registers the 'cuda' backend.
import { registerBackend, registerUnavailableBackend } from '@siftjs/tensor';
import { CudaBackend } from './backend.js';
import { isAvailable } from './libraries.js';

export { CudaBackend } from './backend.js';
export { type CudaBackendOptions, CudaStorage } from './device.js';
export { CachingAllocator, CudaOutOfMemoryError, DeviceOutOfMemory, sizeClass, type AllocatorStats, type DeviceMemory } from './allocator.js';
export { isAvailable, locate, locateAll, searchDirs, sitePackages, type Availability, type LibraryName, type Located, type SearchFs } from './libraries.js';
export { CudaError } from './ffi.js';

// An asynchronous factory: 'cuda' is never picked implicitly by getBackend(); `await setBackend('cuda')` starts it.
// Where CUDA cannot run, the reason is recorded, so that `setBackend('cuda')` says it (libcuda.so.1 not found, no
// device...) instead of "not registered".
try {
  const a = isAvailable();
  if (a.available) registerBackend('cuda', async () => new CudaBackend(), 10);
  else registerUnavailableBackend('cuda', a.reason ?? 'no usable CUDA driver or device');
} catch (e) {
  // isAvailable never throws; this guards the import against anything unforeseen.
  registerUnavailableBackend('cuda', `probing CUDA failed: ${(e as Error).message}`);
}
