// @siftjs/backend-cpu — importing this module registers the CPU backend as the default.
import { registerBackend } from '@siftjs/tensor';
import { CpuBackend } from './backend.js';

export { CpuBackend, type CpuBackendOptions } from './backend.js';
export { CpuHeap } from './runtime/heap.js';
export { CpuStorage } from './runtime/storage.js';

registerBackend('cpu', () => new CpuBackend(), 100);
