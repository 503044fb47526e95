/** Backend.fill: every element set to one value (its 32-bit word passed as a parameter; halves twice in a word). */
import { type BackendStorage, type DType, isHalf, numberToHalfBits } from '@siftjs/tensor';
import type { GpuRuntime } from '../runtime.js';
import { Params, grid, linearMain, paramBlock, pu, storage, wordsFor } from '../wgsl/common.js';

export function fill(rt: GpuRuntime, dtype: DType, size: number, value: number): BackendStorage {
  const label = `fill ${dtype} ×${size}`;
  return rt.op(label, () => {
    const out = rt.make(dtype, size, 'fill');
    if (size === 0) return out;
    const words = wordsFor(dtype, size);
    const p = new Params().u32(words);
    if (dtype === 'float32') p.f32(value);
    else if (dtype === 'int32') p.i32(value);
    else if (isHalf(dtype)) {
      // rounded to nearest even on the host (@siftjs/tensor's half.ts), the pattern in both halves of each word
      const h = numberToHalfBits(value, dtype);
      p.u32(h | (h << 16));
    } else p.u32(value ? 1 : 0);
    rt.launch(label, fillSource(rt.wg), p, [out.buffer], grid(Math.ceil(words / rt.wg), rt.limits.maxComputeWorkgroupsPerDimension));
    return out;
  });
}

/** Words: n (32-bit words), the word's bits. */
function fillSource(wg: number): string {
  return `${paramBlock(2)}
${storage(1, 'out', 'u32', true)}
${linearMain(wg, 'i')}
    if (i < ${pu(0)}) { out[i] = ${pu(1)}; }
}
`;
}
