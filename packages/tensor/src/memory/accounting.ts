import type { Backend } from '../backend/backend.js';
import type { DType } from '../dtype.js';
import { getBackend } from '../backend/registry.js';

/** Counts of live tensor handles, per backend, and handles that were garbage-collected without `dispose()`. */
const live = new Map<string, number>();
let leaked = 0;

export function countTensor(backend: string, delta: 1 | -1): void {
  live.set(backend, (live.get(backend) ?? 0) + delta);
}

/** Bytes of tensor storage alive, per backend and dtype (element size × elements; a backend may round up). */
const byDtype = new Map<string, Map<DType, number>>();

export function countStorage(backend: string, dtype: DType, bytes: number): void {
  let m = byDtype.get(backend);
  if (!m) byDtype.set(backend, (m = new Map()));
  const now = (m.get(dtype) ?? 0) + bytes;
  if (now === 0) m.delete(dtype);
  else m.set(dtype, now);
}

export function countLeak(): void {
  leaked++;
}

export interface MemoryStats {
  backend: string;
  /** Bytes of storage allocated and not yet freed. */
  bytesInUse: number;
  /** The most `bytesInUse` has been since the backend started (or since `resetPeak`). */
  peakBytes: number;
  /** Bytes held from the system: in use plus pooled for reuse. */
  bytesReserved: number;
  /** Tensor handles not yet disposed. */
  liveTensors: number;
  /** Storage allocations not yet freed. */
  allocations: number;
  /** Tensors that were garbage-collected without being disposed (their memory was reclaimed then). */
  leakedTensors: number;
  /**
   * Bytes of tensor storage alive, by dtype: elements × element size, as the tensors ask for them (a backend may
   * round an allocation up, and its own scratch is not a tensor: `bytesInUse` counts both). Dtypes with none are absent.
   */
  bytesByDtype: Partial<Record<DType, number>>;
}

export function memoryStats(backend: Backend = getBackend()): MemoryStats {
  const b = backend.memoryStats();
  return {
    backend: backend.name,
    bytesInUse: b.bytesInUse,
    peakBytes: b.peakBytes,
    bytesReserved: b.bytesReserved,
    liveTensors: live.get(backend.name) ?? 0,
    allocations: b.allocations,
    leakedTensors: leaked,
    bytesByDtype: Object.fromEntries(byDtype.get(backend.name) ?? []),
  };
}

/** Restarts the backend's peak-bytes tracking from its bytes in use now, where the backend supports it. */
export function resetPeakBytes(backend: Backend = getBackend()): boolean {
  if (!backend.resetPeak) return false;
  backend.resetPeak();
  return true;
}
