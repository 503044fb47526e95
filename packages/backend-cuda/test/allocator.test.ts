import { describe, expect, it } from 'vitest';
import { CachingAllocator, CudaOutOfMemoryError, type DeviceMemory, DeviceOutOfMemory, sizeClass } from '../src/allocator.js';

/** A fake device with a capacity, counting calls; addresses never repeat while live. */
class FakeDevice implements DeviceMemory {
  live = new Map<bigint, number>();
  mallocs = 0;
  frees = 0;
  private next = 0x7f0000000000n;
  constructor(public capacity: number) {}
  used(): number {
    return [...this.live.values()].reduce((a, b) => a + b, 0);
  }
  malloc(bytes: number): bigint {
    if (this.used() + bytes > this.capacity) throw new DeviceOutOfMemory(bytes);
    this.mallocs++;
    const p = this.next;
    this.next += BigInt(bytes + 256);
    this.live.set(p, bytes);
    return p;
  }
  free(ptr: bigint): void {
    if (!this.live.delete(ptr)) throw new Error('fake device: bad free');
    this.frees++;
  }
  memInfo() {
    return { free: this.capacity - this.used(), total: this.capacity };
  }
}

const MiB = 1 << 20;

describe('size classes', () => {
  it('small requests round up to 512 bytes, zero to one block', () => {
    expect(sizeClass(0)).toBe(512);
    expect(sizeClass(1)).toBe(512);
    expect(sizeClass(512)).toBe(512);
    expect(sizeClass(513)).toBe(1024);
    expect(sizeClass(MiB)).toBe(MiB);
  });

  it('large requests take quarter-power-of-two classes in 2 MiB steps, at most 25% slack beyond 8 MiB', () => {
    expect(sizeClass(MiB + 1)).toBe(2 * MiB);
    expect(sizeClass(9 * MiB)).toBe(10 * MiB);
    expect(sizeClass(100 * MiB)).toBe(112 * MiB);
    for (let b = 8 * MiB; b < 4096 * MiB; b = Math.floor(b * 1.37) + 12345) {
      const c = sizeClass(b);
      expect(c).toBeGreaterThanOrEqual(b);
      expect(c % (2 * MiB)).toBe(0);
      expect(c / b).toBeLessThanOrEqual(1.25 + (2 * MiB) / b);
    }
  });

  it('rejects negative and fractional requests', () => {
    expect(() => sizeClass(-1)).toThrow(RangeError);
    expect(() => sizeClass(1.5)).toThrow(RangeError);
  });
});

describe('caching allocator', () => {
  it('reuses a freed block of the same class without a device call', () => {
    const dev = new FakeDevice(64 * MiB);
    const a = new CachingAllocator(dev);
    const b1 = a.alloc(1000);
    a.free(b1);
    const b2 = a.alloc(900); // same 1024-byte class
    expect(b2.ptr).toBe(b1.ptr);
    expect(dev.mallocs).toBe(1);
    expect(a.stats().reused).toBe(1);
    const b3 = a.alloc(5000); // another class: a new block
    expect(b3.ptr).not.toBe(b1.ptr);
    expect(dev.mallocs).toBe(2);
  });

  it('tracks bytes in use (requested), allocated (classes), pooled, reserved and the peak', () => {
    const a = new CachingAllocator(new FakeDevice(64 * MiB));
    const x = a.alloc(1000);
    const y = a.alloc(3 * MiB);
    let s = a.stats();
    expect(s.bytesInUse).toBe(1000 + 3 * MiB);
    expect(s.bytesAllocated).toBe(1024 + 4 * MiB);
    expect(s.allocations).toBe(2);
    a.free(y);
    s = a.stats();
    expect(s.bytesInUse).toBe(1000);
    expect(s.bytesPooled).toBe(4 * MiB);
    expect(s.bytesReserved).toBe(1024 + 4 * MiB);
    expect(s.peakBytes).toBe(1000 + 3 * MiB);
    a.resetPeak();
    expect(a.stats().peakBytes).toBe(1000);
    a.free(x);
    a.emptyCache();
    s = a.stats();
    expect(s).toMatchObject({ bytesInUse: 0, bytesPooled: 0, bytesReserved: 0, allocations: 0 });
  });

  it('a double free is an error', () => {
    const a = new CachingAllocator(new FakeDevice(MiB));
    const b = a.alloc(10);
    a.free(b);
    expect(() => a.free(b)).toThrow(/twice/);
  });

  it('on out of memory it returns the pools to the device and retries', () => {
    const dev = new FakeDevice(10 * MiB);
    const a = new CachingAllocator(dev);
    const big = a.alloc(6 * MiB); // class 6 MiB
    a.free(big); // pooled, still held from the device
    const other = a.alloc(8 * MiB); // 8 MiB class: needs the pooled 6 MiB back
    expect(other.classBytes).toBe(8 * MiB);
    expect(dev.frees).toBe(1);
    expect(a.stats().bytesPooled).toBe(0);
  });

  it('out of memory names the request size, its class and the bytes in use', () => {
    const dev = new FakeDevice(10 * MiB);
    const a = new CachingAllocator(dev);
    a.alloc(7 * MiB);
    let err: unknown;
    try {
      a.alloc(5 * MiB);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CudaOutOfMemoryError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/tried to allocate 5\.00 MiB \(5242880 bytes\)/);
    expect(msg).toMatch(/size class 6\.00 MiB/);
    expect(msg).toMatch(/7\.00 MiB \(7340032 bytes\) in use by 1 allocations/);
    expect(msg).toMatch(/device reports 2\.00 MiB \(2097152 bytes\) free of 10\.00 MiB/);
    expect((err as CudaOutOfMemoryError).requested).toBe(5 * MiB);
  });

  it('other device errors pass through unchanged', () => {
    const a = new CachingAllocator({
      malloc: () => {
        throw new Error('cuMemAlloc_v2 failed: CUDA_ERROR_INVALID_CONTEXT (201)');
      },
      free: () => {},
    });
    expect(() => a.alloc(10)).toThrow(/INVALID_CONTEXT/);
  });
});
