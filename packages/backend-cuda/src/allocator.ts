/**
 * A caching device allocator. Requests round up to a size class; a freed block goes to its class's pool and
 * the next request of that class takes it back without a device call. One stream orders all work, so a block
 * freed after its last kernel was enqueued may be handed out again at once: the next user's kernels run after.
 *
 * Size classes: up to 1 MiB, multiples of 512 bytes; above, the next of 2^k·{1, 1.25, 1.5, 1.75} (≤ 25% slack),
 * rounded to 2 MiB. Out of memory: the pools are returned to the device and the request tried once more; then
 * a CudaOutOfMemoryError names the request, its class, and the bytes in use and pooled.
 */

/** What the allocator needs from a device (the CUDA driver, or a fake in tests). */
export interface DeviceMemory {
  /** A device address, or throws DeviceOutOfMemory when the device has no room. */
  malloc(bytes: number): bigint;
  free(ptr: bigint): void;
  /** Free and total device bytes, where the device can say. */
  memInfo?(): { free: number; total: number };
}

/** Thrown by DeviceMemory.malloc when the device is out of memory (any other error is passed through). */
export class DeviceOutOfMemory extends Error {
  constructor(bytes: number) {
    super(`device out of memory allocating ${bytes} bytes`);
    this.name = 'DeviceOutOfMemory';
  }
}

export class CudaOutOfMemoryError extends Error {
  constructor(
    readonly requested: number,
    readonly classBytes: number,
    readonly stats: AllocatorStats,
    device?: { free: number; total: number },
  ) {
    super(
      `CUDA out of memory: tried to allocate ${formatBytes(requested)} (size class ${formatBytes(classBytes)}); ` +
        `${formatBytes(stats.bytesInUse)} in use by ${stats.allocations} allocations, ${formatBytes(stats.bytesPooled)} cached and returned to the device before retrying` +
        (device ? `; the device reports ${formatBytes(device.free)} free of ${formatBytes(device.total)}` : ''),
    );
    this.name = 'CudaOutOfMemoryError';
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(2)} ${units[u]} (${n} bytes)`;
}

const SMALL = 1 << 20;
const SMALL_STEP = 512;
const LARGE_STEP = 2 << 20;

/** The class a request of `bytes` is served from. */
export function sizeClass(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`allocator: invalid request of ${bytes} bytes`);
  const b = Math.max(bytes, 1);
  if (b <= SMALL) return Math.ceil(b / SMALL_STEP) * SMALL_STEP;
  const p = 2 ** Math.floor(Math.log2(b));
  let c = p;
  for (const f of [1, 1.25, 1.5, 1.75, 2]) {
    c = p * f;
    if (c >= b) break;
  }
  return Math.ceil(c / LARGE_STEP) * LARGE_STEP;
}

export interface AllocatorStats {
  /** Requested bytes of live allocations. */
  bytesInUse: number;
  /** The highest bytesInUse since creation or resetPeak. */
  peakBytes: number;
  /** Class bytes of live allocations (what they occupy). */
  bytesAllocated: number;
  /** Bytes in the pools, free for reuse. */
  bytesPooled: number;
  /** bytesAllocated + bytesPooled: what is held from the device. */
  bytesReserved: number;
  /** Live allocations. */
  allocations: number;
  /** Requests served from a pool / by the device. */
  reused: number;
  deviceAllocs: number;
}

export interface Block {
  readonly ptr: bigint;
  /** The request. */
  readonly bytes: number;
  /** The class (bytes actually held). */
  readonly classBytes: number;
  freed: boolean;
}

export class CachingAllocator {
  private readonly pools = new Map<number, bigint[]>();
  private s: AllocatorStats = { bytesInUse: 0, peakBytes: 0, bytesAllocated: 0, bytesPooled: 0, bytesReserved: 0, allocations: 0, reused: 0, deviceAllocs: 0 };

  constructor(private readonly device: DeviceMemory) {}

  alloc(bytes: number): Block {
    const classBytes = sizeClass(bytes);
    let ptr = this.pools.get(classBytes)?.pop();
    if (ptr !== undefined) {
      this.s.bytesPooled -= classBytes;
      this.s.reused++;
    } else {
      ptr = this.fromDevice(bytes, classBytes);
      this.s.deviceAllocs++;
    }
    const s = this.s;
    s.bytesInUse += bytes;
    s.bytesAllocated += classBytes;
    s.allocations++;
    if (s.bytesInUse > s.peakBytes) s.peakBytes = s.bytesInUse;
    s.bytesReserved = s.bytesAllocated + s.bytesPooled;
    return { ptr, bytes, classBytes, freed: false };
  }

  free(block: Block): void {
    if (block.freed) throw new Error('CUDA allocator: block freed twice');
    block.freed = true;
    let pool = this.pools.get(block.classBytes);
    if (!pool) this.pools.set(block.classBytes, (pool = []));
    pool.push(block.ptr);
    const s = this.s;
    s.bytesInUse -= block.bytes;
    s.bytesAllocated -= block.classBytes;
    s.bytesPooled += block.classBytes;
    s.allocations--;
    s.bytesReserved = s.bytesAllocated + s.bytesPooled;
  }

  /** Returns every pooled block to the device. */
  emptyCache(): void {
    for (const [, pool] of this.pools) for (const p of pool.splice(0)) this.device.free(p);
    this.pools.clear();
    this.s.bytesPooled = 0;
    this.s.bytesReserved = this.s.bytesAllocated;
  }

  stats(): AllocatorStats {
    return { ...this.s };
  }

  resetPeak(): void {
    this.s.peakBytes = this.s.bytesInUse;
  }

  private fromDevice(bytes: number, classBytes: number): bigint {
    try {
      return this.device.malloc(classBytes);
    } catch (e) {
      if (!(e instanceof DeviceOutOfMemory)) throw e;
    }
    const before = this.stats();
    this.emptyCache();
    try {
      return this.device.malloc(classBytes);
    } catch (e) {
      if (!(e instanceof DeviceOutOfMemory)) throw e;
      let info: { free: number; total: number } | undefined;
      try {
        info = this.device.memInfo?.();
      } catch {
        info = undefined;
      }
      throw new CudaOutOfMemoryError(bytes, classBytes, before, info);
    }
  }
}
