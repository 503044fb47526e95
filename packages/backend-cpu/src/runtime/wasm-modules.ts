import { wasmBinaries } from '../kernels/wasm/binaries.generated.js';
import type { CpuHeap } from './heap.js';

const compiled = new Map<string, WebAssembly.Module | null>();

/** One of the committed kernel modules (kernels/wasm/*.wat), compiled once per process; null where it does not compile. */
export function wasmModule(name: string): WebAssembly.Module | null {
  if (!compiled.has(name)) {
    try {
      compiled.set(name, new WebAssembly.Module(Uint8Array.from(atob(wasmBinaries[name]), (c) => c.charCodeAt(0))));
    } catch {
      compiled.set(name, null);
    }
  }
  return compiled.get(name) ?? null;
}

/** An instance of one of the committed kernel modules over this heap, or null where it does not compile. */
export function instantiate(heap: CpuHeap, name: string, imports: Record<string, unknown> = {}): WebAssembly.Exports | null {
  const module = wasmModule(name);
  if (!module) return null;
  try {
    return new WebAssembly.Instance(module, { env: { memory: heap.memory, ...imports } }).exports;
  } catch {
    return null;
  }
}
