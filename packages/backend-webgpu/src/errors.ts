/** The package's errors: anything the GPU or the device reports, and ops a dtype has no kernel for. */

export class WebGpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGpuError';
  }
}

export class NotImplementedError extends WebGpuError {
  constructor(op: string) {
    super(`not implemented on webgpu yet: ${op}`);
    this.name = 'NotImplementedError';
  }
}
