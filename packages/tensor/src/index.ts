// @siftjs/tensor — tensors, ops with autograd, memory scopes, the Backend seam and Philox random numbers.
export { Tensor, type Removable } from './tensor.js';
export * from './ops/all.js';
export type { Operand } from './ops/util.js';
export { noGrad, isGradEnabled, withGradMode } from './autograd/grad-mode.js';
export { SAMPLED_CHUNK_ROWS, type SampledGradRequest, sampledGradRequest, sampledGradWorkspaceBytes, setSampledGrad } from './autograd/sampled-grad.js';
export type { GradHook, PostAccumulateGradHook } from './autograd/node.js';
export { scope, keep } from './memory/scope.js';
export { memoryStats, resetPeakBytes, type MemoryStats } from './memory/accounting.js';
export { registerBackend, registerUnavailableBackend, setBackend, getBackend, findBackend, registeredBackends, unavailableBackends } from './backend/registry.js';
export { supportsDtype, widestFloat } from './backend/capabilities.js';
export type * from './backend/backend.js';
export { COMPARISON_OPS } from './backend/backend.js';
export { manualSeed, getRngState, setRngState, type RngState } from './random/generator.js';
export * as philox from './random/philox.js';
export * from './dtype.js';
export * from './errors.js';
export * from './shape.js';
export { selectTopkAbs } from './host/select-topk-abs.js';
