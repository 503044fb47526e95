import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CpuHeap } from '../src/runtime/heap.js';

describe('CpuHeap', () => {
  it('lives in one WebAssembly.Memory, shared where SharedArrayBuffer exists', () => {
    const h = new CpuHeap(1 << 16, 512 << 20);
    expect(h.memory).toBeInstanceOf(WebAssembly.Memory);
    expect(h.shared).toBe(typeof SharedArrayBuffer !== 'undefined');
  });

  test.prop([fc.array(fc.tuple(fc.integer({ min: 1, max: 3 << 20 }), fc.boolean()), { maxLength: 60 })])(
    'blocks are 64-byte aligned, never overlap, and are all returned: bytes in use go back to zero',
    (ops) => {
      const h = new CpuHeap(1 << 16, 512 << 20);
      const live: { off: number; bytes: number }[] = [];
      for (const [bytes, freeOne] of ops) {
        if (freeOne && live.length) {
          const b = live.splice(live.length >> 1, 1)[0];
          h.free(b.off, b.bytes);
        } else {
          const off = h.alloc(bytes);
          expect(off % 64).toBe(0);
          for (const b of live) {
            const overlap = off < b.off + CpuHeap.classOf(b.bytes) && b.off < off + CpuHeap.classOf(bytes);
            expect(overlap).toBe(false);
          }
          live.push({ off, bytes });
        }
      }
      expect(h.peakBytes).toBeGreaterThanOrEqual(h.bytesInUse);
      for (const b of live) h.free(b.off, b.bytes);
      expect(h.bytesInUse).toBe(0);
      expect(h.allocations).toBe(0);
    },
  );

  it('at its limit, merges freed blocks of other sizes into the block asked for (kept blocks untouched)', () => {
    const h = new CpuHeap(1 << 16, 8 << 20);
    const small = Array.from({ length: 48 }, () => h.alloc(100_000)); // 128 KiB class: 6 MiB
    const pin = h.alloc(1000); // keeps the freed run away from the top
    (h.view('int32', pin, 4) as Int32Array).set([7, 8, 9, 10]);
    for (const o of small) h.free(o, 100_000);
    // 5 MiB more would pass the 8 MiB limit; the 6 MiB of touching free blocks hold it.
    const big = h.alloc(5 << 20);
    expect(big).toBe(small[0]);
    expect(big + (5 << 20)).toBeLessThanOrEqual(pin);
    (h.view('float32', big, (5 << 20) / 4) as Float32Array).fill(1);
    expect(Array.from(h.view('int32', pin, 4))).toEqual([7, 8, 9, 10]);
    // what is left of the run (1 MiB) serves smaller classes
    const rest = h.alloc(1 << 20);
    expect(rest).toBe(big + (5 << 20));
    expect(() => h.alloc(4 << 20)).toThrow(/out of memory: cannot allocate 4194304 bytes/);
  });

  it('at its limit, gives freed blocks that end at the top back to it', () => {
    const h = new CpuHeap(1 << 16, 8 << 20);
    const blocks = Array.from({ length: 56 }, () => h.alloc(100_000));
    for (const o of blocks) h.free(o, 100_000);
    const big = h.alloc(7 << 20);
    expect(big).toBe(blocks[0]);
    h.free(big, 7 << 20);
    expect(h.bytesInUse).toBe(0);
  });

  test.prop([fc.array(fc.tuple(fc.integer({ min: 1, max: 3 << 20 }), fc.boolean()), { maxLength: 80 })])(
    'in a heap at its limit (16 MiB): live blocks never overlap, a failed allocation changes nothing, and once all is freed one block of 15 MiB fits',
    (ops) => {
      const h = new CpuHeap(1 << 16, 16 << 20);
      const live: { off: number; bytes: number }[] = [];
      for (const [bytes, freeOne] of ops) {
        if (freeOne && live.length) {
          const b = live.splice(live.length >> 1, 1)[0];
          h.free(b.off, b.bytes);
          continue;
        }
        const before = h.bytesInUse;
        let off: number;
        try {
          off = h.alloc(bytes);
        } catch (e) {
          expect((e as Error).message).toMatch(/out of memory/);
          expect(h.bytesInUse).toBe(before);
          continue;
        }
        for (const b of live) {
          const overlap = off < b.off + CpuHeap.classOf(b.bytes) && b.off < off + CpuHeap.classOf(bytes);
          expect(overlap).toBe(false);
        }
        expect(off + CpuHeap.classOf(bytes)).toBeLessThanOrEqual(16 << 20);
        live.push({ off, bytes });
      }
      for (const b of live) h.free(b.off, b.bytes);
      expect(h.bytesInUse).toBe(0);
      const whole = h.alloc(15 << 20);
      expect(whole + (15 << 20)).toBeLessThanOrEqual(16 << 20);
    },
  );

  it('largestClassAtMost gives a size class, the largest not above its argument', () => {
    for (let bytes = 64; bytes < 64 << 20; bytes = Math.round(bytes * 1.37 / 64) * 64 + 64) {
      const c = CpuHeap.largestClassAtMost(bytes);
      expect(CpuHeap.classOf(c)).toBe(c);
      expect(c).toBeLessThanOrEqual(bytes);
      expect(CpuHeap.classOf(c + 1)).toBeGreaterThan(bytes);
    }
  });

  it('reuses a freed block of the same size class instead of growing', () => {
    const h = new CpuHeap(1 << 16, 512 << 20);
    const a = h.alloc(1000);
    h.free(a, 1000);
    const reserved = h.bytesReserved;
    expect(h.alloc(900)).toBe(a);
    expect(h.bytesReserved).toBe(reserved);
  });

  it('grows the memory when needed, and views taken afterwards see the data', () => {
    const h = new CpuHeap(1 << 16, 512 << 20);
    const a = h.alloc(16);
    (h.view('float32', a, 4) as Float32Array).set([1, 2, 3, 4]);
    const big = h.alloc(8 << 20);
    expect(h.bytesReserved).toBeGreaterThanOrEqual(8 << 20);
    expect(Array.from(h.view('float32', a, 4))).toEqual([1, 2, 3, 4]);
    h.free(big, 8 << 20);
  });

  it('size classes waste at most half below 1 MiB and an eighth above', () => {
    for (const b of [1, 63, 64, 65, 1000, 4097, (1 << 20) - 1, (1 << 20) + 1, 5_000_000, 123_456_789]) {
      const c = CpuHeap.classOf(b);
      expect(c).toBeGreaterThanOrEqual(b);
      expect(c).toBeLessThanOrEqual(b <= 1 << 20 ? Math.max(64, 2 * b) : b * 1.125 + 1);
    }
  });
});
