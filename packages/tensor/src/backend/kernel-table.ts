import type { Backend } from './backend.js';

/** The methods of the Backend contract (its members that are functions, optional ones included). */
export type BackendMethod = { [K in keyof Backend]-?: NonNullable<Backend[K]> extends (...args: never[]) => unknown ? K : never }[keyof Backend];

/**
 * A backend's table of kernels: for each contract method it implements, the function in its
 * `src/kernels/<method>.ts`, which takes the backend's own state first (`Ctx`: the CPU's context, WebGPU's runtime,
 * CUDA's device) and then the method's arguments, and returns what the method returns (or a subtype of it).
 */
export type KernelTable<Ctx> = {
  [M in BackendMethod]?: (ctx: Ctx, ...args: Parameters<NonNullable<Backend[M]>>) => ReturnType<NonNullable<Backend[M]>>;
};

/** The methods a kernel table gives its backend: each kernel's own signature without the state argument. */
export type KernelMethods<T> = {
  [M in keyof T]: T[M] extends (ctx: never, ...args: infer A) => infer R ? (...args: A) => R : never;
};

/**
 * Gives the class `backend` one method per entry of `kernels`: `method(...args)` is `kernel(state(this), ...args)`.
 * This is what lets each backend's src/backend.ts be its table and nothing else, instead of a hand-written
 * forwarding method per kernel (the same thirty methods in every backend). Call it from the class's `static {}`
 * block, where `state` may read a private field, and declare the methods with
 * `interface XBackend extends KernelMethods<typeof kernels> {}` beside the class. The methods are defined as a
 * class's own would be (on the prototype, not enumerable), so `'softmax' in backend` and spies work as before.
 */
export function delegateKernels<B extends object, Ctx>(backend: abstract new (...args: never[]) => B, state: (self: B) => Ctx, kernels: KernelTable<Ctx>): void {
  for (const [name, kernel] of Object.entries(kernels) as [string, (ctx: Ctx, ...args: unknown[]) => unknown][]) {
    // Named after its method, as a class's own method is (stack traces and `fn.name` say which kernel).
    const method = {
      [name](this: B, ...args: unknown[]): unknown {
        return kernel(state(this), ...args);
      },
    }[name];
    Object.defineProperty(backend.prototype, name, { value: method, writable: true, configurable: true, enumerable: false });
  }
}
