// @siftjs/backend-webgpu — importing this module registers the 'webgpu' backend (`await setBackend('webgpu')`).
/// <reference types="@webgpu/types" />
// Importing never touches the GPU and never throws: the device is acquired when the backend is first started,
// and `isAvailable()` says whether that can work here, and why not.
import { registerBackend } from '@siftjs/tensor';
import { WebGpuBackend } from './backend.js';
import { sharedContext } from './device/shared-device.js';

export { acquireDevice, type AcquireOptions, type DawnModule } from './device/acquire.js';
export type { AdapterPath, AdapterSummary, GpuContext } from './device/context.js';
export type { KernelLimits } from './device/limits.js';
export { isAvailable, type Availability } from './device/shared-device.js';
export { describeAdapter, isSoftwareAdapter } from './device/software-adapter.js';
export { BufferPool, sizeClass, type BufferPoolOptions, type PoolStats } from './memory/buffer-pool.js';
export { StagingPool } from './memory/readback.js';
export { GpuStorage } from './memory/storage.js';
export { NotImplementedError, WebGpuError } from './errors.js';
export { WebGpuBackend } from './backend.js';
export type { WebGpuBackendOptions, WebGpuBackendSettings } from './runtime.js';
export type { WebGpuMemoryStats } from './kernels/memoryStats.js';
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
} from './kernels/matmul-plan.js';

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
