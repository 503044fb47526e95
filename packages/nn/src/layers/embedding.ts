import { type DType, embedding, empty, type Tensor } from '@siftjs/tensor';
import { normal_ } from '../init.js';
import { Module } from '../module.js';
import { parameter } from '../parameter.js';

/** A lookup table [numEmbeddings, dim] indexed by int32 ids; N(0, 1) init as torch. */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    { dtype = 'float32' as DType } = {},
  ) {
    super();
    this.weight = parameter(normal_(empty([numEmbeddings, embeddingDim], { dtype })));
  }

  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}
