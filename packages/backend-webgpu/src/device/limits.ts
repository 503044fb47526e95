/** The device limits the kernels are sized by, read from an adapter or a device. */

/** The limits the kernels are sized by: the device's, as granted (the adapter's where they exceed defaults). */
export interface KernelLimits {
  maxStorageBuffersPerShaderStage: number;
  maxUniformBufferBindingSize: number;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  minUniformBufferOffsetAlignment: number;
  minStorageBufferOffsetAlignment: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupSizeZ: number;
  maxComputeWorkgroupsPerDimension: number;
}

export const LIMIT_NAMES: readonly (keyof KernelLimits)[] = [
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'minUniformBufferOffsetAlignment',
  'minStorageBufferOffsetAlignment',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
];

export function readLimits(src: GPUSupportedLimits): KernelLimits {
  const out = {} as KernelLimits;
  for (const k of LIMIT_NAMES) out[k] = Number((src as unknown as Record<string, number>)[k]);
  return out;
}
