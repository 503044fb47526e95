import type { BackendInfo } from '@siftjs/tensor';
import type { CudaDevice } from '../device.js';

export function info(dev: CudaDevice): BackendInfo {
  return {
    name: 'cuda',
    description: dev.started ? `CUDA on ${dev.deviceName} (sm_${dev.arch}), NVRTC kernels, cuBLAS matmul${dev.opts.tf32 ? ' (TF32)' : ''}` : 'CUDA (not started)',
    device: dev.deviceName,
    arch: dev.arch,
    kernelsCompiled: dev.started ? dev.compiler.size : 0,
  };
}
