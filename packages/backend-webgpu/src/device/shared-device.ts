/** The process-wide device the registry's 'webgpu' backend runs on, and whether one can be had here. */
import { acquireDevice, errorLine } from './acquire.js';
import type { AdapterSummary, GpuContext } from './context.js';
import { describeAdapter } from './software-adapter.js';

export interface Availability {
  available: boolean;
  /** Why not, or which adapter. */
  reason: string;
  adapter?: AdapterSummary;
  /**
   * The adapter is a CPU emulation (SwiftShader, llvmpipe): WebGPU works, but slower than the CPU backend, so
   * code that picks a backend by itself should pick the CPU (see `preferredBackend` in @siftjs/cli).
   */
  software?: boolean;
}

let shared: Promise<GpuContext> | null = null;

/** The process-wide device (acquired once; a failed acquisition is retried on the next call). */
export function sharedContext(): Promise<GpuContext> {
  if (!shared) {
    const p = acquireDevice();
    shared = p;
    p.catch(() => {
      if (shared === p) shared = null;
    });
    // A lost device is not reused.
    p.then(
      (ctx) =>
        ctx.device.lost.then(() => {
          if (shared === p) shared = null;
        }),
      () => {},
    );
  }
  return shared;
}

/** Whether a WebGPU device can be had here, and why not. Never throws or rejects. */
export async function isAvailable(): Promise<Availability> {
  try {
    const ctx = await sharedContext();
    return { available: true, reason: describeAdapter(ctx.adapter), adapter: ctx.adapter, software: ctx.adapter.software };
  } catch (e) {
    return { available: false, reason: errorLine(e) };
  }
}
