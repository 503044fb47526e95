import type { Tensor } from '../tensor.js';
import { isGradEnabled } from './grad-mode.js';
import { Node } from './node.js';

/**
 * The gradient rule of one op: the gradients of its inputs from the output's gradient `g`, written with other
 * ops. `saved` holds the tensors the op kept for backward, in the order they were given; `needs[i]` says whether
 * input i wants a gradient (skip the work where it doesn't).
 */
export type GradRule = (g: Tensor, saved: readonly Tensor[], needs: readonly boolean[]) => readonly (Tensor | null)[];

/** The sets `captureGradInputs` is filling (innermost last). */
const captures: Set<Tensor>[] = [];

/**
 * Runs `fn` and adds to `into` every tensor requiring grad that an op read while it ran, grad mode on or off —
 * how `checkpoint` learns which tensors (parameters included) a block it runs without a tape depends on.
 */
export function captureGradInputs<R>(into: Set<Tensor>, fn: () => R): R {
  captures.push(into);
  try {
    return fn();
  } finally {
    captures.pop();
  }
}

export function needsGrad(inputs: readonly Tensor[]): boolean {
  if (captures.length > 0) for (const t of inputs) if (t.requiresGrad) for (const c of captures) c.add(t);
  if (!isGradEnabled()) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/**
 * Attaches `out` to the tape when any input requires grad. Saved tensors are separate handles, so the caller may
 * dispose its own tensors; they are freed when the node has run or the graph is released.
 */
export function record(
  name: string,
  out: Tensor,
  inputs: readonly Tensor[],
  rule: GradRule,
  save: readonly Tensor[] = [],
): Tensor {
  if (!needsGrad(inputs)) return out;
  const edges = inputs.map((t) => (t.requiresGrad ? t.gradNode() : null));
  const needs = edges.map((e) => e !== null);
  const saved = save.map((t) => t.share());
  out.attachGradFn(
    new Node(
      name,
      edges,
      inputs.map((t) => t.shape),
      inputs.map((t) => t.dtype),
      (g) => rule(g, saved, needs),
      saved,
    ),
  );
  return out;
}
