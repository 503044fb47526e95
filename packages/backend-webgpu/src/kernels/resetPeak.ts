/** Backend.resetPeak: peak tracking restarts from the bytes in use now. */
import type { GpuRuntime } from '../runtime.js';

export function resetPeak(rt: GpuRuntime): void {
  rt.pool.resetPeak();
}
