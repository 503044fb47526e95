/** Backend.memoryStats: the buffer pool's accounting (memory/buffer-pool.ts). */
import type { BackendMemoryStats } from '@siftjs/tensor';
import type { GpuRuntime } from '../runtime.js';

export interface WebGpuMemoryStats extends BackendMemoryStats {
  /** Freed bytes kept for reuse (part of bytesReserved). */
  pooledBytes: number;
  /** GPU buffers created, and allocations served from the pool. */
  buffersCreated: number;
  buffersReused: number;
}

export function memoryStats(rt: GpuRuntime): WebGpuMemoryStats {
  const s = rt.pool.stats();
  return {
    bytesInUse: s.bytesInUse,
    peakBytes: s.peakBytes,
    bytesReserved: s.bytesReserved,
    allocations: s.allocations,
    pooledBytes: s.pooledBytes,
    buffersCreated: s.created,
    buffersReused: s.reused,
  };
}
