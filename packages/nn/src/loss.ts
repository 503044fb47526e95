import { crossEntropy, type CrossEntropyOptions, fmtShape, scope, ShapeError, type Tensor } from '@siftjs/tensor';

export { crossEntropy, type CrossEntropyOptions };

/** Mean (or summed, or per-element) squared error, as torch's mse_loss. */
export function mseLoss(input: Tensor, target: Tensor, { reduction = 'mean' }: { reduction?: 'mean' | 'sum' | 'none' } = {}): Tensor {
  if (input.shape.join() !== target.shape.join()) {
    throw new ShapeError(`mseLoss: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} differ`);
  }
  return scope(() => {
    const sq = input.sub(target).square();
    return reduction === 'none' ? sq : reduction === 'sum' ? sq.sum() : sq.mean();
  });
}
