import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferPool, type GpuStorage, sizeClass, type WebGpuBackend } from '../src/index.js';
import { acquire } from './helpers.js';

const { backend: be, reason } = await acquire();

describe('size classes', () => {
  it('fit the request, waste at most a quarter above 64 KiB, and are 256-byte multiples', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (bytes) => {
        const c = sizeClass(bytes);
        expect(c).toBeGreaterThanOrEqual(bytes);
        expect(c % 256).toBe(0);
        if (bytes > 1 << 16) expect(c).toBeLessThanOrEqual(bytes * 1.25 + 256);
        expect(sizeClass(c)).toBe(c);
      }),
    );
  });

  it('are monotonic', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 28 }), fc.integer({ min: 0, max: 2 ** 20 }), (a, d) => sizeClass(a) <= sizeClass(a + d)));
  });
});

describe.skipIf(!be)(`webgpu buffers (${reason})`, () => {
  const b = be as WebGpuBackend;

  it('round-trips float32, int32 and bool through upload and read', async () => {
    const f = Float32Array.from([1.5, -2, 3e-8, 1e30, Number.NaN, Number.POSITIVE_INFINITY]);
    const i = Int32Array.from([0, -1, 2 ** 31 - 1, -(2 ** 31), 7]);
    const u = Uint8Array.from([1, 0, 0, 1, 1]);
    const [sf, si, su] = [b.upload('float32', f), b.upload('int32', i), b.upload('bool', u)];
    expect(await b.read(sf, 'float32', f.length)).toEqual(f);
    expect(await b.read(si, 'int32', i.length)).toEqual(i);
    expect(await b.read(su, 'bool', u.length)).toEqual(u);
    for (const s of [sf, si, su]) b.free(s);
  });

  it('reuses a freed buffer of the same class, and alloc zero-fills a reused buffer', async () => {
    const before = b.memoryStats();
    const s = b.upload('float32', new Float32Array(1000).fill(3));
    const mid = b.memoryStats();
    expect(mid.bytesInUse - before.bytesInUse).toBe(4000);
    b.free(s);
    const freed = b.memoryStats();
    expect(freed.bytesInUse).toBe(before.bytesInUse);
    expect(freed.pooledBytes).toBeGreaterThanOrEqual(sizeClass(4000));
    const z = b.alloc('float32', 1010); // same class (4096 bytes)
    const after = b.memoryStats();
    expect(after.buffersCreated).toBe(freed.buffersCreated);
    expect(after.buffersReused).toBe(freed.buffersReused + 1);
    expect(after.pooledBytes).toBe(freed.pooledBytes - sizeClass(4000));
    const got = await b.read(z, 'float32', 1010);
    expect(got.every((v) => v === 0)).toBe(true);
    b.free(z);
  });

  it('tracks bytes in use, the peak, and reserved bytes; resetPeak restarts from bytes in use', () => {
    b.resetPeak();
    const base = b.memoryStats();
    expect(base.peakBytes).toBe(base.bytesInUse);
    const xs = [100, 5000, 70000].map((n) => b.alloc('int32', n));
    const st = b.memoryStats();
    expect(st.bytesInUse - base.bytesInUse).toBe(4 * 75100);
    expect(st.peakBytes).toBe(st.bytesInUse);
    expect(st.bytesReserved).toBeGreaterThanOrEqual(st.bytesInUse + st.pooledBytes);
    expect(st.allocations - base.allocations).toBe(3);
    for (const x of xs) b.free(x);
    const end = b.memoryStats();
    expect(end.bytesInUse).toBe(base.bytesInUse);
    expect(end.peakBytes).toBe(st.peakBytes);
    b.resetPeak();
    expect(b.memoryStats().peakBytes).toBe(end.bytesInUse);
  });

  it('destroys freed buffers beyond maxPooledBytes', () => {
    const device = b.context.device;
    const pool = new BufferPool(device, { maxPooledBytes: 8192 });
    const bufs = [pool.acquire(4096), pool.acquire(4096), pool.acquire(4096)];
    for (const x of bufs) pool.release(x);
    const s = pool.stats();
    expect(s.pooledBytes).toBe(8192);
    expect(s.bytesReserved).toBe(8192);
    expect(s.created).toBe(3);
    pool.acquire(4000);
    expect(pool.stats().reused).toBe(1);
    pool.trim();
    expect(pool.stats().pooledBytes).toBe(0);
    expect(() => pool.release(bufs[2])).toThrow(/released twice/);
  });

  it('reads are asynchronous and concurrent reads each get their own data', async () => {
    const ss = Array.from({ length: 8 }, (_, k) => b.upload('float32', new Float32Array(300).fill(k)));
    const got = await Promise.all(ss.map((s) => b.read(s, 'float32', 300)));
    got.forEach((g, k) => expect(g.every((v) => v === k)).toBe(true));
    for (const s of ss) b.free(s);
  });

  it('a freed buffer reused before recorded kernels ran does not change their inputs', async () => {
    // x is read by a recorded (unsubmitted) kernel, then freed; its buffer goes to the next upload.
    const x = b.upload('float32', new Float32Array(64).fill(2));
    const y = b.unary('square', { storage: x, dtype: 'float32', shape: [64], strides: [1], offset: 0 });
    b.free(x);
    const z = b.upload('float32', new Float32Array(64).fill(5));
    expect((z as GpuStorage).buffer).toBe((x as GpuStorage).buffer);
    expect(Array.from(await b.read(y, 'float32', 64))).toEqual(new Array(64).fill(4));
    b.free(y);
    b.free(z);
  });

  it('rejects double frees and use after free', () => {
    const s = b.alloc('float32', 4);
    b.free(s);
    expect(() => b.free(s)).toThrow(/freed twice/);
    expect(() => b.copy({ storage: s, dtype: 'float32', shape: [4], strides: [1], offset: 0 })).toThrow(/after it was freed/);
  });
});
