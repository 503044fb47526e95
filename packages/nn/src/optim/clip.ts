import { noGrad, scope, stack, type Tensor, tensor, widestFloat } from '@siftjs/tensor';

/**
 * Scales the gradients of `params` in place so their global L2 norm is at most `maxNorm` (torch's
 * clip_grad_norm_: coefficient min(1, maxNorm / (norm + 1e-6))). Returns the norm before clipping, as a tensor —
 * no read-back, so the step stays asynchronous on devices. The squares are summed in the backend's widest float
 * (float64 on the CPU, float32 on WebGPU).
 */
export function clipGradNorm_(params: Tensor[], maxNorm: number): Tensor {
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  return noGrad(() =>
    scope(() => {
      if (grads.length === 0) return tensor(0);
      const wide = widestFloat(grads[0].backend);
      const total = stack(grads.map((g) => g.cast(wide).square().sum())).sum().sqrt();
      const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1);
      for (const g of grads) g.copy_(g.mul(coef.cast(g.dtype)));
      return total.cast('float32');
    }),
  );
}
