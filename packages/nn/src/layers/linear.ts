import { type DType, empty, type Tensor } from '@siftjs/tensor';
import { kaimingUniform_, uniform_ } from '../init.js';
import { Module } from '../module.js';
import { parameter } from '../parameter.js';

export interface LinearOptions {
  bias?: boolean;
  /** Default: the default float dtype (float32; `setDefaultDtype`). */
  dtype?: DType;
}

/**
 * y = x·Wᵀ + b with W of shape [out, in] (torch's layout), initialised as torch does: U(±1/√in). A float16 / bfloat16
 * weight beside float32 input stays half: the product reads it as float32 (matmul) and the result is float32.
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true, dtype }: LinearOptions = {},
  ) {
    super();
    this.weight = parameter(kaimingUniform_(empty([outFeatures, inFeatures], { dtype }), { a: Math.sqrt(5) }));
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    this.bias = bias ? parameter(uniform_(empty([outFeatures], { dtype }), -bound, bound)) : null;
  }

  forward(x: Tensor): Tensor {
    const wT = this.weight.T;
    const y = x.matmul(wT);
    wT.dispose();
    if (!this.bias) return y;
    const out = y.add(this.bias);
    y.dispose();
    return out;
  }
}
