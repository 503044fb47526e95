import { Tensor, scope } from '@siftjs/tensor';

/**
 * Reading tensors in tests on any backend. Scopes are synchronous and WebGPU reads are not, so a test computes inside
 * `scope`, returns the tensors it wants to look at, and reads them here after the scope has closed; the returned tensors
 * are disposed once read. On the CPU this reads exactly the numbers `toArraySync` would.
 */

/** A tensor (or null), or arrays / plain objects of them, read into number arrays. */
export type Read<R> = R extends Tensor
  ? number[]
  : R extends null | undefined
    ? R
    : R extends readonly unknown[]
      ? { -readonly [K in keyof R]: Read<R[K]> }
      : R extends object
        ? { [K in keyof R]: Read<R[K]> }
        : R;

/** `Array.from(await t.toArray())`; `t` stays alive. */
export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.toArray());
}

/** The value of a one-element tensor; `t` stays alive. */
export async function item(t: Tensor): Promise<number> {
  return t.item();
}

/**
 * Runs `fn` in a scope, then reads every tensor it returned (in arrays and plain objects too). What is read are fresh
 * handles (`detach()`, sharing storage), disposed once read, so returning a long-lived tensor such as `x.grad` is safe.
 */
export async function read<R>(fn: () => R): Promise<Read<R>> {
  const out = scope(() => mapTensors(fn(), (t) => t.detach()));
  try {
    return (await readValue(out)) as Read<R>;
  } finally {
    disposeValue(out);
  }
}

function mapTensors(x: unknown, f: (t: Tensor) => Tensor): unknown {
  if (x instanceof Tensor) return f(x);
  if (Array.isArray(x)) return x.map((v) => mapTensors(v, f));
  if (isPlain(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, mapTensors(v, f)]));
  return x;
}

const isPlain = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype;

async function readValue(x: unknown): Promise<unknown> {
  if (x instanceof Tensor) return values(x);
  // One read at a time: the order of the GPU's map requests stays that of the program.
  if (Array.isArray(x)) {
    const out: unknown[] = [];
    for (const v of x) out.push(await readValue(v));
    return out;
  }
  if (isPlain(x)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = await readValue(v);
    return out;
  }
  return x;
}

function disposeValue(x: unknown): void {
  if (x instanceof Tensor) {
    if (!x.isDisposed) x.dispose();
  } else if (Array.isArray(x)) x.forEach(disposeValue);
  else if (isPlain(x)) Object.values(x).forEach(disposeValue);
}
