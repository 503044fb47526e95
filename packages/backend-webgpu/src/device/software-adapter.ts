/**
 * Naming software adapters: SwiftShader, llvmpipe and lavapipe are CPU emulations of a GPU, correct but slower
 * than the CPU backend, so they are recognised and said to be what they are wherever an adapter is described.
 */
import type { AdapterSummary } from './context.js';

/** Renderers that are CPU emulations, by the names drivers give them. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|software rasterizer|microsoft basic render/i;

/**
 * Whether an adapter is a CPU implementation of WebGPU: the adapter says so (`isFallbackAdapter`, as Dawn does for
 * SwiftShader), or its names are a software renderer's (Mesa's llvmpipe reports itself only by name).
 */
export function isSoftwareAdapter(info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter === true) return true;
  return [info.vendor, info.architecture, info.device, info.description].some((s) => typeof s === 'string' && SOFTWARE_RENDERER.test(s));
}

export interface AdapterNames {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter?: boolean;
}

/** The adapter's names, and whether it says it is a fallback (on its info, or on the adapter in older WebGPUs). */
export function adapterNames(adapter: GPUAdapter): AdapterNames {
  const info = adapter.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: info?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  };
}

/** The adapter in words; a software one says so, since it is slower than the CPU backend. */
export function describeAdapter(a: AdapterSummary): string {
  const name = [a.description || a.device, a.vendor, a.architecture].filter(Boolean).join(', ');
  const kind = a.software ? 'a software adapter (a CPU emulation of a GPU, slower than the CPU backend): ' : '';
  return `${kind}${name || 'unnamed adapter'} via ${a.path}, ${a.featureLevel} feature level`;
}
