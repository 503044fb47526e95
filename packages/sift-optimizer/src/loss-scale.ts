import { noGrad, type Removable, type Tensor } from '@siftjs/tensor';

/**
 * How a tuner under a GradScaler keeps nothing scaled: each trained parameter's gradient is divided by the loss
 * scale as backward delivers it (a hook), so `.grad`, and everything a tuner derives from gradients across steps
 * (SIFT's choice of components, its re-selection nominees), holds the loss's true gradient. The scale is a power of
 * two in every ordinary use, so the division is exact wherever the result is a normal number.
 */
export class GradientUnscaling {
  scale = 1;
  private readonly hooks: Removable[] = [];

  /** Hooks on the dense parameters a tuner trains (refused in half precision, as PyTorch's unscale_ refuses). */
  constructor(dense: readonly { name: string; param: Tensor }[]) {
    for (const { name, param } of dense) {
      if (param.dtype === 'float16' || param.dtype === 'bfloat16') {
        throw new TypeError(`GradScaler: '${name}' is trained in ${param.dtype}; loss scaling needs the trained tensors in float32 (keep them float32 and only the frozen weights in half precision)`);
      }
    }
    for (const { param } of dense) this.hooks.push(param.registerHook((g) => this.unscale(g)));
  }

  /** g / scale (g itself when the scale is 1). The caller owns the result when it is not `g`. */
  unscale(g: Tensor): Tensor {
    return this.scale === 1 ? g : noGrad(() => g.mul(1 / this.scale));
  }

  remove(): void {
    for (const h of this.hooks) h.remove();
    this.hooks.length = 0;
  }
}
