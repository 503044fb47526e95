import { checkpoint, type Tensor } from '@siftjs/tensor';
import { Module } from './module.js';

/**
 * A layer that can run under activation checkpointing (transformers' GradientCheckpointingLayer): with
 * `gradientCheckpointing` on, `checkpointed(fn, ...inputs)` keeps only the inputs between forward and backward and
 * recomputes the rest in backward (see `checkpoint` in @siftjs/tensor). Models switch it on for every such layer
 * with `gradientCheckpointingEnable()`.
 */
export class GradientCheckpointingLayer extends Module {
  gradientCheckpointing = false;

  /**
   * `fn(...inputs)`, checkpointed when switched on. Tensors made for this forward alone (masks) must be among
   * `inputs`: the recomputation runs after the forward has freed them.
   */
  protected checkpointed(fn: (...inputs: Tensor[]) => Tensor, ...inputs: Tensor[]): Tensor {
    return this.gradientCheckpointing ? checkpoint(fn, ...inputs) : fn(...inputs);
  }
}

/** Switches activation checkpointing on or off in every GradientCheckpointingLayer under `root`; how many there are. */
export function setGradientCheckpointing(root: Module, on: boolean): number {
  let n = 0;
  for (const [, m] of root.namedModules()) {
    if (m instanceof GradientCheckpointingLayer) {
      m.gradientCheckpointing = on;
      n++;
    }
  }
  return n;
}
