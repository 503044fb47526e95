import { Tensor } from '../tensor.js';

/**
 * Memory scopes: every tensor made while `fn` runs is disposed when it returns, except the tensors it returns
 * (found in arrays and plain objects) and those passed to `keep`. Returned tensors move to the enclosing scope.
 */
const stack: Set<Tensor>[] = [];

export function track(t: Tensor): void {
  if (stack.length > 0) stack[stack.length - 1].add(t);
}

/** Takes `t` out of every scope, so no scope disposes it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

export function scope<R>(fn: () => R): R {
  const mine = new Set<Tensor>();
  stack.push(mine);
  let result: R;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    disposeAll(mine);
    throw e;
  }
  stack.pop();
  if (result instanceof Promise) {
    disposeAll(mine);
    throw new TypeError('scope(fn): fn returned a Promise; scopes are synchronous (await outside, or dispose by hand)');
  }
  const returned = new Set<Tensor>();
  collectTensors(result, returned, 0);
  for (const t of returned) {
    if (mine.delete(t)) track(t);
  }
  disposeAll(mine);
  return result;
}

function disposeAll(set: Set<Tensor>): void {
  for (const t of set) t.dispose();
}

function collectTensors(x: unknown, out: Set<Tensor>, depth: number): void {
  if (x === null || typeof x !== 'object' || depth > 8) return;
  if (isTensor(x)) {
    out.add(x);
    return;
  }
  if (Array.isArray(x)) {
    for (const v of x) collectTensors(v, out, depth + 1);
    return;
  }
  if (x instanceof Map) {
    for (const v of x.values()) collectTensors(v, out, depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(x);
  if (proto === Object.prototype || proto === null) {
    for (const v of Object.values(x)) collectTensors(v, out, depth + 1);
  }
}

function isTensor(x: object): x is Tensor {
  return x instanceof Tensor;
}
