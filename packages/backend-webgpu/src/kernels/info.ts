/** Backend.info: what runs the kernels — the adapter (a software one says so), its limits, the matmul tile. */
import type { BackendInfo } from '@siftjs/tensor';
import { describeAdapter } from '../device/software-adapter.js';
import type { GpuRuntime } from '../runtime.js';

export function info(rt: GpuRuntime, name: string): BackendInfo {
  const a = rt.context.adapter;
  return {
    name,
    description: `WGSL compute shaders on ${describeAdapter(a)}`,
    adapter: a.description || a.device,
    /** A CPU emulation (SwiftShader, llvmpipe): slower than the CPU backend. */
    software: a.software,
    path: a.path,
    featureLevel: a.featureLevel,
    /** How float16 is stored: `array<f16>` with `shader-f16`, else packed two to a u32 (bfloat16 always packed). */
    float16Storage: rt.context.shaderF16 ? 'shader-f16' : 'packed',
    limits: rt.limits,
    matmulTile: rt.tile,
    pipelines: rt.pipelines.size,
    submits: rt.encoder.submits,
  };
}
