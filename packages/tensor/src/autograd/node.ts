import { AutogradError } from '../errors.js';
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';

/** A gradient hook: return a replacement gradient, nothing (keep it), or `null` (drop it and free it). */
export type GradHook = (grad: Tensor) => Tensor | null | undefined | void;
/** Runs after a leaf's `.grad` has been accumulated; receives the leaf. */
export type PostAccumulateGradHook = (param: Tensor) => void;

export type BackwardFn = (grad: Tensor) => readonly (Tensor | null)[];

/**
 * A vertex of the tape: the op that produced a tensor, with edges to the nodes of its differentiable inputs.
 * Leaves that require grad get a node too (`leaf` set, no backward), where their gradients are accumulated.
 *
 * Nodes are reference counted — by the tensor they produced and by each consumer node — so a graph is released
 * (its saved tensors freed) as soon as nothing can reach it, with or without a backward pass.
 */
export class Node {
  private refs = 1;
  private backwardFn: BackwardFn | null;
  private saved: Tensor[];
  private ran = false;
  readonly preHooks: GradHook[] = [];
  readonly postHooks: PostAccumulateGradHook[] = [];
  /** A non-leaf tensor whose gradient is kept (`retainGrad`). */
  retained: Tensor | null = null;

  constructor(
    readonly name: string,
    readonly inputs: readonly (Node | null)[],
    readonly inputShapes: readonly (readonly number[])[],
    readonly inputDTypes: readonly DType[],
    backwardFn: BackwardFn | null,
    saved: Tensor[],
    readonly leaf: Tensor | null = null,
  ) {
    this.backwardFn = backwardFn;
    this.saved = saved;
    for (const n of inputs) n?.retain();
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs > 0) return;
    this.freeSaved();
    for (const n of this.inputs) n?.release();
  }

  /** Computes the gradients of the inputs from the gradient of the output. */
  apply(grad: Tensor): readonly (Tensor | null)[] {
    if (this.ran || !this.backwardFn) {
      throw new AutogradError(
        `backward through '${this.name}' a second time: its saved tensors were freed by the first backward() (call backward once per forward)`,
      );
    }
    return this.backwardFn(grad);
  }

  /** Frees what the backward needed; called as soon as the node has run. */
  freeSaved(): void {
    this.ran = true;
    this.backwardFn = null;
    for (const t of this.saved) t.dispose();
    this.saved = [];
  }
}
