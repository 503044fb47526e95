import { widestFloat } from '../backend/capabilities.js';
import type { DType } from '../dtype.js';
import { cast } from '../ops/cast.js';
import type { Tensor } from '../tensor.js';

/**
 * The fallbacks compute in the widest float their backend has (float64 where it exists, as the fused kernels of
 * the CPU and CUDA do in registers) and round once at the end, so a float32 result is within an ulp or so of the
 * fused kernel's. Called inside the fallback's scope: intermediates are freed when it returns.
 */
export function widen(x: Tensor): Tensor {
  const wide = widestFloat(x.backend);
  return x.dtype === wide ? x : cast(x, wide);
}

/** `x` rounded once to `dtype` (the result the fused kernel would store). */
export function narrow(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : cast(x, dtype);
}
