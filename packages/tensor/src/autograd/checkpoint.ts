import { AutogradError } from '../errors.js';
import { scope } from '../memory/scope.js';
import { getRngState, setRngState } from '../random/generator.js';
import { alias } from '../ops/views.js';
import { Tensor } from '../tensor.js';
import { backwardTo } from './engine.js';
import { isGradEnabled, noGrad, withGradMode } from './grad-mode.js';
import { Node } from './node.js';
import { captureGradInputs } from './record.js';

/**
 * Activation checkpointing (torch.utils.checkpoint): `fn(...inputs)` runs without a tape, so none of its
 * intermediate activations are kept — only handles on `inputs`. When the backward pass reaches the result, `fn` is
 * run again with the tape on, from the same inputs and the same random stream (dropout draws the same mask), and
 * the gradient is carried back through that recomputed graph, whose activations are freed as soon as it has run.
 *
 * Gradients go where the plain call would send them: to the inputs, and to every tensor requiring grad that `fn`
 * reads from its closure (parameters) — each reached through this node, so a parameter's hooks fire once per
 * backward, and in the order of summation of the plain graph, so the gradients are the same bits.
 *
 * `fn` must compute the same thing twice: tensors it reads from its closure (parameters, buffers) must still be
 * alive at backward and unchanged — pass anything made for this forward alone (masks) as an input. Where no input
 * or parameter requires grad, or grad mode is off, it is a plain call.
 */
export function checkpoint(fn: (...inputs: Tensor[]) => Tensor, ...inputs: Tensor[]): Tensor {
  if (!isGradEnabled()) return fn(...inputs);
  const rng = getRngState();
  const read = new Set<Tensor>();
  let out = captureGradInputs(read, () => noGrad(() => fn(...inputs)));
  if (!(out instanceof Tensor)) throw new AutogradError('checkpoint: fn must return one Tensor');
  // Inputs read by ops are among `read` too: kept there, so a closure that also holds an input by its original handle
  // stops the recomputed graph at the input's own node instead of walking on into the graph that made it.
  const reads = [...read];
  const gradInputs = inputs.filter((t) => t.requiresGrad);
  if (gradInputs.length + reads.length === 0) return out;
  // The result gets its own node: an input (or a closure tensor) handed back as it is must keep its own.
  if (inputs.includes(out) || read.has(out)) out = noGrad(() => alias(out as Tensor));

  const saved = inputs.map((t) => t.share());
  const needs = inputs.map((t) => t.requiresGrad);
  const edges = [...gradInputs, ...reads];
  const readNodes = reads.map((t) => t.gradNode());
  out.attachGradFn(
    new Node(
      'checkpoint',
      edges.map((t) => t.gradNode()),
      edges.map((t) => t.shape),
      edges.map((t) => t.dtype),
      (g) => recompute(fn, saved, needs, readNodes, rng, g),
      saved,
    ),
  );
  return out;
}

/**
 * The backward of a checkpoint: `fn` again, with the tape on, on stand-ins for the saved inputs and the random
 * state of the first run; then the gradient `g` back through that graph down to the stand-ins and the closure's
 * tensors. Returns their gradients in the node's edge order (inputs requiring grad, then closure tensors).
 */
function recompute(
  fn: (...inputs: Tensor[]) => Tensor,
  saved: readonly Tensor[],
  needs: readonly boolean[],
  readNodes: readonly Node[],
  rng: ReturnType<typeof getRngState>,
  g: Tensor,
): (Tensor | null)[] {
  return scope(() => {
    // Detached leaves over the saved storage: the recomputed graph stops at them instead of reaching the outer one.
    const standIns = saved.map((s, i) => {
      const t = s.detach();
      if (needs[i]) t.requiresGrad = true;
      return t;
    });
    const now = getRngState();
    setRngState(rng);
    let again: Tensor;
    try {
      again = withGradMode(true, () => fn(...standIns));
    } finally {
      setRngState(now);
    }
    if (!again.requiresGrad) return [];
    const boundary = [...standIns.filter((t) => t.requiresGrad).map((t) => t.gradNode()), ...readNodes];
    // The walk frees the gradient it is seeded with: give it a handle of its own. The recomputed graph goes with
    // `again` when this scope ends; the gradients leave it.
    return backwardTo(again, g.share(), boundary);
  });
}
