import type { Backend } from '@siftjs/tensor';
import { contractKernels } from './backend-layout.js';

/**
 * A backend that has only the primitives of the Backend contract (issue 18): `inner` with every optional (fused)
 * kernel hidden, so each op that would call one runs its reference from primitives in @siftjs/tensor
 * (packages/tensor/src/fallbacks/<method>.ts) instead. The list is read from the contract's source — every kernel
 * marked optional there — so a fused kernel added to the contract is hidden here without an edit, and a kernel
 * the contract requires is never hidden. Storage and identity (alloc, read, readSync, …) pass through.
 */
export function primitivesOnly(inner: Backend, name: string): Backend {
  const fused = new Set(contractKernels().filter((k) => k.optional).map((k) => k.name));
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'name') return name;
      if (typeof key === 'string' && fused.has(key)) return undefined;
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
    has(target, key) {
      return !(typeof key === 'string' && fused.has(key)) && Reflect.has(target, key);
    },
  });
}
