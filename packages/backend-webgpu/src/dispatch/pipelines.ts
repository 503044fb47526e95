import { withDirectives } from '../wgsl/common.js';

/** Compiled compute pipelines, one per distinct WGSL source, made on first use and kept for the device's life. */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  /** Pipelines compiled so far. */
  get size(): number {
    return this.pipelines.size;
  }

  /** The pipeline of `source` (entry point `main`, layout from the shader), compiled the first time. */
  get(source: string, label: string): GPUComputePipeline {
    let p = this.pipelines.get(source);
    if (!p) {
      const module = this.device.createShaderModule({ code: withDirectives(source), label });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
      this.pipelines.set(source, p);
    }
    return p;
  }
}
