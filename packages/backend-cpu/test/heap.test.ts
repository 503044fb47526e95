import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CpuHeap } from '../src/heap.js';

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
