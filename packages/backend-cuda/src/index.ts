// @siftjs/backend-cuda — importing this module never throws; where CUDA is usable it registers the 'cuda' backend.
import { registerBackend } from '@siftjs/tensor';
import { CudaBackend } from './backend.js';
import { isAvailable } from './libraries.js';

export { CudaBackend, type CudaBackendOptions, CudaStorage, selectTopk } from './backend.js';
export { CachingAllocator, CudaOutOfMemoryError, DeviceOutOfMemory, sizeClass, type AllocatorStats, type DeviceMemory } from './allocator.js';
export { isAvailable, locate, locateAll, searchDirs, sitePackages, type Availability, type LibraryName, type Located, type SearchFs } from './libraries.js';
export { CudaError } from './ffi.js';

// An asynchronous factory: 'cuda' is never picked implicitly by getBackend(); `await setBackend('cuda')` starts it.
try {
  if (isAvailable().available) registerBackend('cuda', async () => new CudaBackend(), 10);
} catch {
  /* isAvailable never throws; this guards the import against anything unforeseen */
}
