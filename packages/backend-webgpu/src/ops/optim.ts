/** AdamW, dense and sparse (SIFT), as PyTorch's update (wgsl/adamw.ts). */
import { type AdamWHyper, type BackendStorage, type DType, DTypeError, ShapeError } from '@siftjs/tensor';
import type { GpuRuntime, GpuStorage } from '../runtime.js';
import { Params } from '../wgsl/common.js';
import { adamwSource } from '../wgsl/adamw.js';
import { IndexOp, scatterSetSource } from '../wgsl/indexing.js';

/** AdamW's words after n (wgsl/adamw.ts), constants in float64 as on the CPU. */
function adamwParams(n: number, h: AdamWHyper, paramSize: number): Params {
  const decay = 1 - h.lr * h.weightDecay;
  const stepSize = h.lr / (1 - h.beta1 ** h.step);
  const bc2 = Math.sqrt(1 - h.beta2 ** h.step);
  return new Params().u32(n).f32(h.beta1).f32(1 - h.beta1).f32(h.beta2).f32(1 - h.beta2).f32(decay).f32(stepSize).f32(bc2).f32(h.eps).u32(paramSize);
}

function optimizerBuffers(rt: GpuRuntime, label: string, dtype: DType, n: number, named: [string, BackendStorage][]): GPUBuffer[] {
  if (dtype !== 'float32') {
    rt.scalar(dtype, label);
    throw new DTypeError(`webgpu ${label}: float32 only`);
  }
  return named.map(([name, s]) => {
    const b = rt.buf(s, label);
    if ((s as GpuStorage).size < n) throw new ShapeError(`webgpu ${label}: ${name} holds ${(s as GpuStorage).size} elements, fewer than ${n}`);
    return b;
  });
}

export function adamw(rt: GpuRuntime, p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper): void {
  const label = `adamw ${dtype} ×${size}`;
  rt.op(label, () => {
    const bufs = optimizerBuffers(rt, label, dtype, size, [['param', p], ['grad', g], ['m', m], ['v', v]]);
    if (size > 0) rt.launch(label, adamwSource(rt.wg, false), adamwParams(size, h, 0), bufs, rt.groups(size));
  });
}

export function adamwSparse(
  rt: GpuRuntime,
  param: BackendStorage,
  idx: BackendStorage,
  values: BackendStorage,
  g: BackendStorage,
  m: BackendStorage,
  v: BackendStorage,
  dtype: DType,
  k: number,
  h: AdamWHyper,
): void {
  const label = `adamwSparse ${dtype}, k ${k}`;
  rt.op(label, () => {
    const [P, I, Va, G, M, V] = optimizerBuffers(rt, label, dtype, k, [['param', param], ['indices', idx], ['values', values], ['grad', g], ['m', m], ['v', v]]);
    if (k === 0) return;
    const size = (param as GpuStorage).size;
    const err = rt.indexErrors.use();
    if (!rt.tooMany(7)) {
      rt.launch(label, adamwSource(rt.wg, true), adamwParams(k, h, size), [P, I, Va, G, M, V, err], rt.groups(k));
      return;
    }
    // Seven bindings are more than this device allows: step the values, then scatter them (four each).
    rt.launch(label, adamwSource(rt.wg, false), adamwParams(k, h, 0), [Va, G, M, V], rt.groups(k));
    const p = new Params().u32(k).u32(size).u32(0).u32(0).u32(IndexOp.adamwSparse);
    rt.launch(label, scatterSetSource('f32', rt.wg), p, [P, I, Va, err], rt.groups(k));
  });
}
