import { type DType, isHalf, layerNorm, ones, rmsNorm, scope, type Tensor, zeros } from '@siftjs/tensor';
import { Module } from '../module.js';
import { parameter } from '../parameter.js';

export interface LayerNormOptions {
  eps?: number;
  /** Learnable weight (and bias). */
  elementwiseAffine?: boolean;
  bias?: boolean;
  /** Default: the default float dtype (float32; `setDefaultDtype`). */
  dtype?: DType;
}

/**
 * Normalises over the trailing `normalizedShape` dims: (x − μ)/√(σ² + eps)·weight + bias. A float16 / bfloat16
 * weight and bias beside float32 input are widened for the arithmetic; the output is float32.
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | number[], { eps = 1e-5, elementwiseAffine = true, bias = true, dtype }: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = eps;
    this.weight = elementwiseAffine ? parameter(ones(this.normalizedShape, { dtype })) : null;
    this.bias = elementwiseAffine && bias ? parameter(zeros(this.normalizedShape, { dtype })) : null;
  }

  forward(x: Tensor): Tensor {
    if (!halfBeside(this.weight, x) && !halfBeside(this.bias, x)) return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
    return scope(() => layerNorm(x, this.normalizedShape, like(this.weight, x), like(this.bias, x), this.eps));
  }
}

/** x / √(mean(x²) + eps) · weight over the last dim (LLaMA's RMSNorm). */
export class RMSNorm extends Module {
  readonly weight: Tensor;

  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
    { dtype }: { dtype?: DType } = {},
  ) {
    super();
    this.weight = parameter(ones([dim], { dtype }));
  }

  forward(x: Tensor): Tensor {
    if (!halfBeside(this.weight, x)) return rmsNorm(x, this.weight, this.eps);
    return scope(() => rmsNorm(x, like(this.weight, x), this.eps));
  }
}

/** A half weight beside input of another dtype (float32 activations of a model stored in bf16). */
function halfBeside(w: Tensor | null, x: Tensor): boolean {
  return w !== null && isHalf(w.dtype) && w.dtype !== x.dtype;
}

/** The weight in the input's dtype for the norm's arithmetic (widened exactly; its gradient flows back through the cast). */
function like(w: Tensor | null, x: Tensor): Tensor | null {
  return w && halfBeside(w, x) ? w.cast(x.dtype) : w;
}
