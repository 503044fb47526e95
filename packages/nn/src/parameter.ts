import { keep, type Tensor } from '@siftjs/tensor';

const parameters = new WeakSet<Tensor>();

/** A parameter is a Tensor marked by `parameter()` (torch.nn.Parameter); the type names the intent. */
export type Parameter = Tensor;

/**
 * Marks `t` as a trainable parameter (like torch.nn.Parameter): it requires grad, no memory scope disposes it, and
 * modules list it in `parameters()` / `stateDict()`. Returns `t` itself.
 */
export function parameter(t: Tensor, requiresGrad = true): Tensor {
  t.requiresGrad = requiresGrad;
  parameters.add(keep(t));
  return t;
}

export function isParameter(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && parameters.has(x as Tensor);
}
