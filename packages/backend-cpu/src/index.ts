// @siftjs/backend-cpu — importing this module registers the CPU backend as the default.
import { registerBackend } from '@siftjs/tensor';
import { CpuBackend } from './backend.js';

export { CpuBackend, type CpuBackendOptions, CpuStorage } from './backend.js';
export { CpuHeap } from './heap.js';

registerBackend('cpu', () => new CpuBackend(), 100);
