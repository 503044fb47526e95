import { DisposedError, keep, memoryStats, ones, rand, randn, scope, type Tensor, tensor, zeros } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectNoLeaks } from '../support/memory.js';
import { values } from '../support/read.js';

describe.each(backendsUnderTest())('memory on $name', (backend) => {
  beforeAll(() => backend.start());

  it('scope disposes what it made, except what it returns (in arrays and objects too)', async () => {
    let inner: Tensor[] = [];
    const out = await expectNoLeaks(async () => {
      const r = scope(() => {
        const a = ones([3]);
        const b = a.add(1);
        const c = b.mul(2);
        inner = [a, b];
        return { c, list: [a.add(5)] };
      });
      expect(inner.every((t) => t.isDisposed)).toBe(true);
      expect(r.c.isDisposed).toBe(false);
      const v = await values(r.c);
      r.c.dispose();
      r.list[0].dispose();
      return v;
    });
    expect(out).toEqual([4, 4, 4]);
  });

  it('nested scopes hand returned tensors to the enclosing scope', () =>
    expectNoLeaks(() =>
      scope(() => {
        const kept = scope(() => ones([2]).mul(3));
        expect(kept.isDisposed).toBe(false);
      }),
    ));

  it('keep() takes a tensor out of every scope', () =>
    expectNoLeaks(() => {
      let k: Tensor | null = null;
      scope(() => {
        k = keep(ones([2]));
      });
      expect(k!.isDisposed).toBe(false);
      k!.dispose();
    }));

  it('a scope that throws still disposes what it made', () =>
    expectNoLeaks(() => {
      expect(() =>
        scope(() => {
          ones([4]);
          throw new Error('boom');
        }),
      ).toThrow('boom');
    }));

  it('`using` disposes at the end of the block', () =>
    expectNoLeaks(() => {
      let seen: Tensor;
      {
        using t = zeros([8]);
        seen = t;
        expect(t.isDisposed).toBe(false);
      }
      expect(seen.isDisposed).toBe(true);
    }));

  it('views share storage, which is freed with the last handle', async () => {
    const before = memoryStats();
    const a = ones([16]);
    const v = a.reshape([4, 4]);
    const bytes = memoryStats().bytesInUse - before.bytesInUse;
    expect(bytes).toBeGreaterThanOrEqual(64);
    a.dispose();
    expect(memoryStats().bytesInUse - before.bytesInUse).toBe(bytes);
    expect(await values(v)).toEqual(new Array(16).fill(1));
    v.dispose();
    expect(memoryStats().bytesInUse).toBe(before.bytesInUse);
    expect(memoryStats().liveTensors).toBe(before.liveTensors);
  });

  it('use after dispose is a clear error naming the tensor', () => {
    const t = tensor([1, 2]);
    t.dispose();
    expect(() => t.add(1)).toThrow(DisposedError);
    expect(() => t.add(1)).toThrow(/shape \[2\] was used after dispose/);
  });

  it('memoryStats reports bytes in use, the peak and live tensors', () => {
    const s0 = memoryStats();
    const big = zeros([1 << 16]);
    const s1 = memoryStats();
    expect(s1.bytesInUse - s0.bytesInUse).toBeGreaterThanOrEqual(4 << 16);
    expect(s1.peakBytes).toBeGreaterThanOrEqual(s1.bytesInUse);
    expect(s1.liveTensors).toBe(s0.liveTensors + 1);
    big.dispose();
    expect(memoryStats().peakBytes).toBeGreaterThanOrEqual(s1.bytesInUse);
  });

  it('memoryStats breaks the bytes in use down by dtype: elements × each format size, views sharing their storage', () => {
    const byDtype = () => memoryStats().bytesByDtype;
    const before = byDtype();
    const f = zeros([1000]);
    const i = zeros([10], { dtype: 'int32' });
    const b = zeros([7], { dtype: 'bool' });
    // IEEE 754 binary16 and bfloat16 are 2 bytes an element, where the backend stores them.
    const h = backend.half ? zeros([6], { dtype: 'float16' }) : null;
    const rows = f.reshape([10, 100]);
    const view = rows.narrow(0, 2, 3);
    const now = byDtype();
    const grew = (d: 'float32' | 'int32' | 'bool' | 'float16') => (now[d] ?? 0) - (before[d] ?? 0);
    expect(grew('float32')).toBe(4000);
    expect(grew('int32')).toBe(40);
    expect(grew('bool')).toBe(7);
    if (h) expect(grew('float16')).toBe(12);
    for (const t of [view, rows, f, i, b, h]) t?.dispose();
    expect(byDtype()).toEqual(before);
  });

  it('rand and randn with a range, a mean or a scale leave nothing alive but their result', () => {
    const before = memoryStats();
    const made = [rand([64], { low: -1, high: 1 }), randn([64], { std: 0.02 }), randn([64], { mean: 1, std: 2 })];
    const after = memoryStats();
    expect(after.liveTensors - before.liveTensors).toBe(3);
    for (const t of made) t.dispose();
    expect(memoryStats().liveTensors).toBe(before.liveTensors);
    expect(memoryStats().bytesInUse).toBe(before.bytesInUse);
  });

  it('a tensor garbage-collected without dispose() has its storage reclaimed and is counted as a leak', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'run with --expose-gc (vitest.config.ts sets it)').toBeTypeOf('function');
    const before = memoryStats();
    (() => void zeros([4096]))(); // made outside any scope and never disposed
    for (let i = 0; i < 50 && memoryStats().leakedTensors === before.leakedTensors; i++) {
      gc!();
      await new Promise((r) => setTimeout(r, 10));
    }
    const after = memoryStats();
    expect(after.leakedTensors).toBe(before.leakedTensors + 1);
    expect(after.bytesInUse).toBe(before.bytesInUse);
    expect(after.liveTensors).toBe(before.liveTensors);
  });
});
