import { type DType, embedding, empty, isHalf, type Tensor } from '@siftjs/tensor';
import { normal_ } from '../init.js';
import { Module } from '../module.js';
import { parameter } from '../parameter.js';

/**
 * A lookup table [numEmbeddings, dim] indexed by int32 ids; N(0, 1) init as torch. A float16 / bfloat16 table stays
 * half and the rows it looks up are widened to float32: activations are float32 whatever the weights are stored in.
 */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    { dtype }: { dtype?: DType } = {},
  ) {
    super();
    this.weight = parameter(normal_(empty([numEmbeddings, embeddingDim], { dtype })));
  }

  forward(ids: Tensor): Tensor {
    const rows = embedding(this.weight, ids);
    if (!isHalf(rows.dtype)) return rows;
    const wide = rows.cast('float32');
    rows.dispose();
    return wide;
  }
}
