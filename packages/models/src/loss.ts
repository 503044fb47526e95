import { crossEntropy, scope, type Tensor } from '@siftjs/tensor';

/** Next-token cross-entropy as Hugging Face computes it: logits at position t predict labels at t + 1 (−100 ignored). */
export function causalLMLoss(logits: Tensor, labels: Tensor): Tensor {
  return scope(() => {
    const [b, t, v] = logits.shape;
    return crossEntropy(logits.narrow(1, 0, t - 1).reshape([b * (t - 1), v]), labels.narrow(1, 1, t - 1).contiguous().reshape([b * (t - 1)]));
  });
}
