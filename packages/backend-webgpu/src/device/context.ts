/** What acquiring a device gives every later layer: the device, its limits, and the adapter it came from. */
import type { KernelLimits } from './limits.js';

/** Where the device came from. */
export type AdapterPath = 'navigator' | 'dawn-default' | 'dawn-swiftshader' | 'dawn-opengles';

export interface AdapterSummary {
  path: AdapterPath;
  /** A CPU implementation of WebGPU (SwiftShader, llvmpipe, lavapipe): correct, but slower than the CPU backend. */
  software: boolean;
  /** 'core' or 'compatibility'. */
  featureLevel: 'core' | 'compatibility';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The adapter's own limits (what it could grant). */
  adapterLimits: KernelLimits;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  /**
   * Whether float16 storages are declared `array<f16>` (the device was made with `shader-f16`): the adapter offers
   * it and it was not turned off (AcquireOptions.shaderF16, SIFT_WEBGPU_SHADER_F16=0).
   */
  shaderF16: boolean;
  /** The device's limits: what kernels must fit. */
  limits: KernelLimits;
  /** Dawn's GPU object in Node (kept referenced while the device lives); navigator.gpu in browsers. */
  gpu: GPU;
}
