/** AdamW, dense and SIFT's increment step, as PyTorch's update (wgsl/adamw.ts). */
import { type AdamWConstants, type AdamWHyper, type AdamWIncrementArgs, type BackendStorage, type DType, DTypeError, ShapeError, adamwConstants } from '@siftjs/tensor';
import type { GpuRuntime, GpuStorage } from '../runtime.js';
import { Params } from '../wgsl/common.js';
import {
  adamwIncrementSource,
  adamwSource,
  incrementDeltaSource,
  incrementMomentsSource,
  incrementStepSource,
  incrementSumSource,
  incrementWriteBackSource,
} from '../wgsl/adamw.js';
import { IndexOp, scatterSetSource } from '../wgsl/indexing.js';

/** AdamW's words after n (wgsl/adamw.ts), the constants computed in float64 by @siftjs/tensor. */
function adamwParams(n: number, c: AdamWConstants): Params {
  return new Params().u32(n).f32(c.beta1).f32(1 - c.beta1).f32(c.beta2).f32(1 - c.beta2).f32(c.decay).f32(c.stepSize).f32(c.bc2).f32(c.eps);
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
    if (size > 0) rt.launch(label, adamwSource(rt.wg), adamwParams(size, adamwConstants(h)), bufs, rt.groups(size));
  });
}

/**
 * SIFT's step: one kernel where the device allows its eight (nine) storage buffers, else the step and then the
 * write-back (five each), else — four-buffer devices — moments, increment, sum and scatter.
 */
export function adamwIncrement(rt: GpuRuntime, a: AdamWIncrementArgs): void {
  const label = `adamwIncrement ${a.dtype}, k ${a.k}`;
  rt.op(label, () => {
    if (a.paramDtype !== 'float32') throw new DTypeError(`webgpu ${label}: a float32 parameter only, got ${a.paramDtype}`);
    const named: [string, BackendStorage][] = [['indices', a.indices], ['base', a.base], ['delta', a.delta], ['grad', a.grad], ['m', a.m], ['v', a.v]];
    if (a.steps) named.push(['steps', a.steps]);
    const [I, B, D, G, M, V, S] = optimizerBuffers(rt, label, a.dtype, a.k, named);
    const [P] = optimizerBuffers(rt, label, a.paramDtype, a.paramSize, [['param', a.param]]);
    const steps = a.steps !== null;
    const c = a.c;
    const params = adamwParams(a.k, c).f32(c.lr).f32(Math.log(c.beta1)).f32(Math.log(c.beta2)).u32(a.paramSize);
    const groups = rt.groups(a.k);
    const withSteps = (bufs: GPUBuffer[]) => (steps ? [...bufs, S] : bufs);
    const err = rt.indexErrors.use();
    if (!rt.tooMany(steps ? 9 : 8)) {
      rt.launch(label, adamwIncrementSource(rt.wg, steps), params, [...withSteps([P, I, B, D, G, M, V]), err], groups);
    } else if (!rt.tooMany(5)) {
      rt.launch(label, incrementStepSource(rt.wg, steps), params, withSteps([D, G, M, V]), groups);
      rt.launch(label, incrementWriteBackSource(rt.wg), params, [P, I, B, D, err], groups);
    } else {
      rt.launch(label, incrementMomentsSource(rt.wg), params, [G, M, V], groups);
      rt.launch(label, incrementDeltaSource(rt.wg, steps), params, withSteps([D, M, V]), groups);
      const sum = rt.make('float32', a.k, label);
      try {
        rt.launch(label, incrementSumSource(rt.wg), params, [sum.buffer, B, D], groups);
        const scatter = new Params().u32(a.k).u32(a.paramSize).u32(0).u32(0).u32(IndexOp.adamwIncrement);
        rt.launch(label, scatterSetSource('f32', rt.wg), scatter, [P, I, sum.buffer, err], groups);
      } finally {
        rt.free(sum);
      }
    }
  });
}
