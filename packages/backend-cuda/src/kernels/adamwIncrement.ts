import type { AdamWIncrementArgs } from '@siftjs/tensor';
import { type CudaDevice, storageOf } from '../device.js';
import { f64, i64, ptr } from '../geometry.js';
import { errorWord, launch } from '../launch.js';
import { adamwIncrementKernel } from './adamwIncrement.cu.js';

/** One thread per chosen component; the constants arrive computed (a.c, from adamwConstants). */
export function adamwIncrement(dev: CudaDevice, a: AdamWIncrementArgs): void {
  const [P, I, B, D, G, Mm, V] = [a.param, a.indices, a.base, a.delta, a.grad, a.m, a.v].map((s) => ptr(storageOf(s).ptr));
  const S = a.steps ? ptr(storageOf(a.steps).ptr) : ptr(0n);
  const { lr, beta1, beta2, eps, decay, stepSize, bc2 } = a.c;
  const constants = [lr, beta1, beta2, eps, decay, stepSize, bc2].map(f64);
  launch(dev, adamwIncrementKernel(a.dtype, a.paramDtype), a.k, [P, I, B, D, G, Mm, V, S, i64(a.k), i64(a.paramSize), ...constants, errorWord(dev)]);
}
