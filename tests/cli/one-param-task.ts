import type { TaskModel } from '@siftjs/cli';
import { Module, parameter } from '@siftjs/nn';
import { type Tensor, tensor } from '@siftjs/tensor';

/** fit's tests on a one-parameter model whose loss is written so that the number in question does what the test needs. */

export class One extends Module {
  w: Tensor;
  constructor(values: number[]) {
    super();
    this.w = parameter(tensor(values));
  }
}

/** A "task" whose loss at step s (1-based; held-out evaluations do not count) is `loss(w, s)`. */
export function task(model: One, loss: (w: Tensor, step: number) => Tensor): TaskModel {
  let step = 0;
  return {
    model,
    tokenizer: null as never,
    modelType: 'test',
    task: 'causal-lm',
    siftTargets: [],
    loraTargets: [],
    head: [],
    forward: (ids: Tensor) => {
      // evaluateAsync runs without gradients: it does not advance the step.
      const training = model.w.requiresGrad && ids.shape[0] === 1;
      if (training) step++;
      return { loss: loss(model.w, training ? step : 1), logits: tensor([0]) };
    },
    savePretrained: () => {},
  };
}

export const batch = { shape: [1, 1] as [number, number], inputIds: Int32Array.of(0), attentionMask: Int32Array.of(1), labels: null, indices: [0], targetMask: null };
export const heldOut = [{ ...batch, shape: [2, 1] as [number, number], inputIds: Int32Array.of(0, 0), attentionMask: Int32Array.of(1, 1), indices: [0, 1] }];
