import { AutogradError, fmtShape } from '../errors.js';
import { keep, scope } from '../memory/scope.js';
import { shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { withGradMode } from './grad-mode.js';
import type { Node } from './node.js';

/**
 * Reverse-mode differentiation from `root`. Nodes run when every consumer has delivered its gradient (a
 * dependency count, as in PyTorch's engine), leaves first, so a leaf's dense gradient exists only from the
 * moment it is complete until its hooks and accumulation have run. Each node's saved tensors are freed right
 * after it runs.
 */
export function runBackward(root: Tensor, gradient?: Tensor): void {
  if (!root.requiresGrad) {
    throw new AutogradError('backward: the tensor does not require grad (no input of the computation has requiresGrad)');
  }
  if (gradient === undefined && root.size !== 1) {
    throw new AutogradError(
      `backward: the output has shape ${fmtShape(root.shape)}; pass a gradient of that shape (only a scalar output may omit it)`,
    );
  }
  if (gradient !== undefined && !shapesEqual(gradient.shape, root.shape)) {
    throw new AutogradError(
      `backward: gradient shape ${fmtShape(gradient.shape)} does not match output shape ${fmtShape(root.shape)}`,
    );
  }
  withGradMode(false, () => walk(root.gradNode(), keep(gradient ? gradient.clone() : root.onesLike()), null));
}

/**
 * Reverse mode from `root` (seeded with `gradient`, which the walk takes over) that stops at `boundary`: a boundary
 * node is neither run nor hooked, and the walk does not go past it. Returns the gradient that reached each boundary
 * node (null where none did), summed as the full walk would have summed it — how `checkpoint` hands the gradients of
 * a recomputed block to the pass that called it.
 */
export function backwardTo(root: Tensor, gradient: Tensor, boundary: readonly Node[]): (Tensor | null)[] {
  const reached = new Map<Node, Tensor>();
  const stops = new Set(boundary);
  try {
    withGradMode(false, () => walk(root.gradNode(), keep(gradient), { stops, reached }));
  } catch (e) {
    for (const g of reached.values()) g.dispose();
    throw e;
  }
  return boundary.map((n) => {
    const g = reached.get(n) ?? null;
    reached.delete(n); // a node listed twice gets its gradient once; the engine sums edges, not list entries
    return g;
  });
}

interface Boundary {
  stops: ReadonlySet<Node>;
  reached: Map<Node, Tensor>;
}

function walk(rootNode: Node, rootGrad: Tensor, boundary: Boundary | null): void {
  const pending = countDependencies(rootNode, boundary?.stops);
  const grads = new Map<Node, Tensor>([[rootNode, rootGrad]]);
  const readyLeaves: Node[] = [];
  const readyOps: Node[] = [rootNode];
  try {
    while (readyLeaves.length + readyOps.length > 0) {
      const node = (readyLeaves.pop() ?? readyOps.pop()) as Node;
      if (boundary?.stops.has(node)) {
        const g = grads.get(node);
        grads.delete(node);
        if (g) boundary.reached.set(node, g);
        continue;
      }
      const grad = runHooks(node, grads.get(node) ?? null);
      grads.delete(node);
      if (node.leaf) {
        if (grad) accumulateLeaf(node, node.leaf, grad);
        continue;
      }
      const inputGrads = grad ? applyNode(node, grad) : [];
      node.freeSaved();
      deliver(node, inputGrads, (input, g, i) => {
        if (g) addInto(grads, input, g, node, i);
        const left = (pending.get(input) as number) - 1;
        pending.set(input, left);
        if (left === 0) (input.leaf ? readyLeaves : readyOps).push(input);
      });
    }
  } finally {
    // A hook or rule that threw leaves gradients in flight: free them, so an error loses no memory.
    for (const g of grads.values()) g.dispose();
  }
}

function countDependencies(root: Node, stops?: ReadonlySet<Node>): Map<Node, number> {
  const pending = new Map<Node, number>([[root, 0]]);
  const stack = [root];
  while (stack.length) {
    const n = stack.pop() as Node;
    if (stops?.has(n)) continue;
    for (const input of n.inputs) {
      if (!input) continue;
      const seen = pending.has(input);
      pending.set(input, (pending.get(input) ?? 0) + 1);
      if (!seen) stack.push(input);
    }
  }
  return pending;
}

function runHooks(node: Node, grad: Tensor | null): Tensor | null {
  let g = grad;
  const hooks = node.leaf ? node.leaf.leafHooks() : node.preHooks;
  for (const hook of hooks) {
    if (!g) break;
    const r = hook(g);
    if (r === null) {
      g.dispose();
      g = null;
    } else if (r !== undefined && r !== g) {
      if (!shapesEqual(r.shape, g.shape)) {
        throw new AutogradError(
          `a gradient hook returned shape ${fmtShape(r.shape)} for a gradient of shape ${fmtShape(g.shape)}`,
        );
      }
      g.dispose();
      g = keep(r);
    }
  }
  if (g && node.retained && !node.retained.isDisposed) {
    const t = node.retained;
    const old = t.grad;
    t.grad = keep(old ? old.add(g) : g.clone());
    old?.dispose();
  }
  return g;
}

function applyNode(node: Node, grad: Tensor): readonly (Tensor | null)[] {
  try {
    // A rule may pass its incoming gradient straight through; give each such input its own handle.
    // One tensor returned for two inputs is given a second handle, so each input owns its gradient.
    const seen = new Set<Tensor>([grad]);
    const out = scope(() => node.apply(grad)).map((g) => {
      if (!g) return g;
      if (seen.has(g)) return g.share();
      seen.add(g);
      return g;
    });
    for (const g of out) if (g) keep(g);
    return out;
  } finally {
    grad.dispose();
  }
}

/** Gradients a rule computed for an input that needs none (freed at once): the tests hold every op's rule to 0. */
let unneeded = 0;

/** How many gradients rules have computed for inputs that need none, since the module loaded. Not public API. */
export function unneededGradientCount(): number {
  return unneeded;
}

/**
 * Hands each input that needs a gradient its own, and frees at once every gradient nobody needs: one computed
 * for an input that requires none (rules are told which inputs need one and should skip the work, but the engine
 * owns whatever they return), one past the inputs, or those not yet handed on when `each` throws.
 */
function deliver(
  node: Node,
  inputGrads: readonly (Tensor | null)[],
  each: (input: Node, grad: Tensor | null, i: number) => void,
): void {
  let next = 0;
  try {
    for (; next < node.inputs.length; next++) {
      const input = node.inputs[next];
      const g = inputGrads[next] ?? null;
      if (input) each(input, g, next);
      else if (g) {
        unneeded++;
        g.dispose();
      }
    }
  } finally {
    // After a throw, the gradient being handed on is `each`'s (addInto frees it); the rest are freed here.
    const from = next < node.inputs.length ? next + 1 : next;
    for (let i = from; i < inputGrads.length; i++) inputGrads[i]?.dispose();
  }
}

function addInto(grads: Map<Node, Tensor>, input: Node, grad: Tensor, from: Node, i: number): void {
  const expected = from.inputShapes[i];
  // A gradient has its input's dtype (mixed-dtype ops compute in the promoted one).
  const g = grad.dtype === from.inputDTypes[i] ? grad : keep(grad.cast(from.inputDTypes[i]));
  if (g !== grad) grad.dispose();
  if (!shapesEqual(g.shape, expected)) {
    g.dispose();
    throw new AutogradError(
      `backward of '${from.name}' produced a gradient of shape ${fmtShape(g.shape)} for input ${i} of shape ${fmtShape(expected)}`,
    );
  }
  const prev = grads.get(input);
  if (!prev) {
    grads.set(input, g);
    return;
  }
  grads.set(input, keep(prev.add(g)));
  prev.dispose();
  g.dispose();
}

function accumulateLeaf(node: Node, leaf: Tensor, grad: Tensor): void {
  if (leaf.isDisposed) {
    grad.dispose();
    return;
  }
  const g = grad.dtype === leaf.dtype ? grad : grad.cast(leaf.dtype);
  if (g !== grad) grad.dispose();
  const old = leaf.grad;
  if (!old) {
    // A leaf's .grad is updated in place by optimizers: it owns a whole contiguous storage.
    leaf.grad = keep(g.ownsStorage() ? g : g.clone());
    if (leaf.grad !== g) g.dispose();
  } else {
    leaf.grad = keep(old.add(g));
    old.dispose();
    g.dispose();
  }
  for (const hook of node.postHooks) hook(leaf);
}
