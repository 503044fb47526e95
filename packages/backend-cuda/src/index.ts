// @siftjs/backend-cuda — importing this module never throws; where CUDA is usable it registers the 'cuda' backend.
export { isAvailable, locate, locateAll, searchDirs, sitePackages, type Availability, type LibraryName, type Located, type SearchFs } from './libraries.js';
export { CudaError } from './ffi.js';
