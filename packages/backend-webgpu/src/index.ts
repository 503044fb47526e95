// @siftjs/backend-webgpu — importing this module registers the 'webgpu' backend (`await setBackend('webgpu')`).
/// <reference types="@webgpu/types" />
// Importing never touches the GPU and never throws: the device is acquired when the backend is first started,
// and `isAvailable()` says whether that can work here, and why not.
import { registerBackend } from '@siftjs/tensor';
import { sharedContext } from './adapter.js';
import { WebGpuBackend } from './backend.js';

export {
  acquireDevice,
  isAvailable,
  isSoftwareAdapter,
  describeAdapter,
  type AcquireOptions,
  type DawnModule,
  type AdapterPath,
  type AdapterSummary,
  type Availability,
  type GpuContext,
  type KernelLimits,
} from './adapter.js';
export { BufferPool, StagingPool, sizeClass, type BufferPoolOptions, type PoolStats } from './buffers.js';
export { WebGpuError } from './encoder.js';
export { WebGpuBackend, GpuStorage, NotImplementedError, type WebGpuBackendOptions, type WebGpuBackendSettings, type WebGpuMemoryStats } from './backend.js';
export {
  chooseTile,
  chooseVec4Tile,
  matmulPlan,
  DEFAULT_MATMUL_TUNING,
  type MatmulDims,
  type MatmulPlan,
  type MatmulTile,
  type MatmulTuning,
  type StridedOperand,
  type Vec4Layout,
} from './matmul-plan.js';

let instance: Promise<WebGpuBackend> | null = null;

function startShared(): Promise<WebGpuBackend> {
  instance ??= sharedContext().then(
    (ctx) => new WebGpuBackend(ctx),
    (e: unknown) => {
      instance = null;
      throw e;
    },
  );
  const p = instance;
  // getBackend() may call an asynchronous factory and drop its promise; never leave that rejection unhandled.
  p.catch(() => {});
  return p;
}

// Below the CPU backend's priority: an asynchronous factory can never be the synchronous default anyway.
registerBackend('webgpu', startShared, 10);
