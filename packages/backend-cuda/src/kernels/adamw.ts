import { type AdamWHyper, type BackendStorage, type DType, adamwConstants } from '@siftjs/tensor';
import { type CudaDevice, storageOf } from '../device.js';
import { f64, i64, ptr } from '../geometry.js';
import { launch } from '../launch.js';
import { adamwKernel } from './adamw.cu.js';

/** In place over `size` elements; the step's constants come from @siftjs/tensor (adamwConstants). */
export function adamw(dev: CudaDevice, p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper): void {
  const c = adamwConstants(h);
  const [P, G, Mm, V] = [p, g, m, v].map((s) => ptr(storageOf(s).ptr));
  launch(dev, adamwKernel(dtype), size, [P, G, Mm, V, i64(size), f64(c.beta1), f64(c.beta2), f64(c.eps), f64(c.decay), f64(c.stepSize), f64(c.bc2)]);
}
