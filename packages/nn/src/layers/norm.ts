import { type DType, layerNorm, ones, rmsNorm, type Tensor, zeros } from '@siftjs/tensor';
import { Module } from '../module.js';
import { parameter } from '../parameter.js';

export interface LayerNormOptions {
  eps?: number;
  /** Learnable weight (and bias). */
  elementwiseAffine?: boolean;
  bias?: boolean;
  dtype?: DType;
}

/** Normalises over the trailing `normalizedShape` dims: (x − μ)/√(σ² + eps)·weight + bias. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | number[], { eps = 1e-5, elementwiseAffine = true, bias = true, dtype = 'float32' }: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = eps;
    this.weight = elementwiseAffine ? parameter(ones(this.normalizedShape, { dtype })) : null;
    this.bias = elementwiseAffine && bias ? parameter(zeros(this.normalizedShape, { dtype })) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

/** x / √(mean(x²) + eps) · weight over the last dim (LLaMA's RMSNorm). */
export class RMSNorm extends Module {
  readonly weight: Tensor;

  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
    { dtype = 'float32' as DType } = {},
  ) {
    super();
    this.weight = parameter(ones([dim], { dtype }));
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}
