/** Backend.fill: every element set to one value (its 32-bit word passed as a parameter). */
import type { BackendStorage, DType } from '@siftjs/tensor';
import type { GpuRuntime } from '../runtime.js';
import { Params, grid, linearMain, paramBlock, pu, storage } from '../wgsl/common.js';

export function fill(rt: GpuRuntime, dtype: DType, size: number, value: number): BackendStorage {
  const label = `fill ${dtype} ×${size}`;
  return rt.op(label, () => {
    const out = rt.make(dtype, size, 'fill');
    if (size === 0) return out;
    const p = new Params().u32(size);
    if (dtype === 'float32') p.f32(value);
    else if (dtype === 'int32') p.i32(value);
    else p.u32(value ? 1 : 0);
    rt.launch(label, fillSource(rt.wg), p, [out.buffer], grid(Math.ceil(size / rt.wg), rt.limits.maxComputeWorkgroupsPerDimension));
    return out;
  });
}

/** Words: n, the value's bits. */
function fillSource(wg: number): string {
  return `${paramBlock(2)}
${storage(1, 'out', 'u32', true)}
${linearMain(wg, 'i')}
    if (i < ${pu(0)}) { out[i] = ${pu(1)}; }
}
`;
}
