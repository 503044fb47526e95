/**
 * GPU memory: a pool of storage buffers in size classes (a freed buffer is kept and handed to the next
 * allocation of its class). Read-back goes through readback.ts.
 *
 * Accounting (memoryStats): `bytesInUse` is the bytes the live storages asked for, `peakBytes` its maximum,
 * `bytesReserved` every byte of GPU buffers the pool holds (live buffers at their class size plus pooled ones),
 * `pooledBytes` the free part of that.
 */

/** GPUBufferUsage / GPUMapMode values (spec constants; Node has no such globals). */
export const Usage = {
  MAP_READ: 0x1,
  MAP_WRITE: 0x2,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  UNIFORM: 0x40,
  STORAGE: 0x80,
} as const;
export const MapMode = { READ: 0x1, WRITE: 0x2 } as const;

const MIN_CLASS = 256;

/**
 * The buffer size an allocation of `bytes` gets: powers of two up to 64 KiB, then four classes per octave
 * (so at most 25% is wasted on a large tensor, and a freed buffer serves every request of its class).
 */
export function sizeClass(bytes: number): number {
  const b = Math.max(MIN_CLASS, Math.ceil(bytes / MIN_CLASS) * MIN_CLASS);
  if (b <= 1 << 16) return 2 ** Math.ceil(Math.log2(b));
  const octave = 2 ** Math.floor(Math.log2(b));
  const step = octave / 4;
  return Math.ceil(b / step) * step;
}

export interface PoolStats {
  bytesInUse: number;
  peakBytes: number;
  bytesReserved: number;
  pooledBytes: number;
  /** Live buffers handed out. */
  allocations: number;
  /** GPU buffers created so far, and allocations served from the pool. */
  created: number;
  reused: number;
}

export interface BufferPoolOptions {
  /** Free bytes kept for reuse; beyond this, freed buffers are destroyed. Default 1 GiB or maxBufferSize*2. */
  maxPooledBytes?: number;
  /** Called before buffers are destroyed (the backend submits pending work that may use them). */
  beforeDestroy?: () => void;
  /** Usage flags of pooled buffers. */
  usage?: number;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly live = new Map<GPUBuffer, { cls: number; bytes: number }>();
  private inUse = 0;
  private inUseClass = 0;
  private pooled = 0;
  private peak = 0;
  private created = 0;
  private reused = 0;
  readonly maxPooledBytes: number;
  private readonly usage: number;

  constructor(
    private readonly device: GPUDevice,
    private readonly opts: BufferPoolOptions = {},
  ) {
    this.maxPooledBytes = opts.maxPooledBytes ?? 1 << 30;
    this.usage = opts.usage ?? Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;
  }

  /** A buffer of at least `bytes` (its class size), from the pool when one is free. */
  acquire(bytes: number, label?: string): GPUBuffer {
    const cls = sizeClass(bytes);
    const list = this.free.get(cls);
    let buffer = list?.pop();
    if (buffer) {
      this.pooled -= cls;
      this.reused++;
    } else {
      buffer = this.device.createBuffer({ size: cls, usage: this.usage, label });
      this.created++;
    }
    this.live.set(buffer, { cls, bytes });
    this.inUse += bytes;
    this.inUseClass += cls;
    if (this.inUse > this.peak) this.peak = this.inUse;
    return buffer;
  }

  /** Returns a buffer to the pool (or destroys it when the pool is full). */
  release(buffer: GPUBuffer): void {
    const entry = this.live.get(buffer);
    if (!entry) throw new Error('webgpu buffer pool: a buffer released twice or not from this pool');
    this.live.delete(buffer);
    this.inUse -= entry.bytes;
    this.inUseClass -= entry.cls;
    if (this.pooled + entry.cls > this.maxPooledBytes) {
      this.opts.beforeDestroy?.();
      buffer.destroy();
      return;
    }
    let list = this.free.get(entry.cls);
    if (!list) this.free.set(entry.cls, (list = []));
    list.push(buffer);
    this.pooled += entry.cls;
  }

  /** Destroys every pooled (free) buffer. */
  trim(): void {
    if (this.pooled === 0) return;
    this.opts.beforeDestroy?.();
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooled = 0;
  }

  resetPeak(): void {
    this.peak = this.inUse;
  }

  stats(): PoolStats {
    return {
      bytesInUse: this.inUse,
      peakBytes: this.peak,
      bytesReserved: this.inUseClass + this.pooled,
      pooledBytes: this.pooled,
      allocations: this.live.size,
      created: this.created,
      reused: this.reused,
    };
  }
}
