import * as T from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { WebGpuBackend, acquireDevice, chooseTile, isAvailable } from '../src/index.js';
import { acquire, ci, randomData, view } from './helpers.js';

const { backend: be, reason } = await acquire();

describe('webgpu adapter', () => {
  it('isAvailable answers without throwing, and says why', async () => {
    const a = await isAvailable();
    expect(typeof a.available).toBe('boolean');
    expect(a.reason.length).toBeGreaterThan(0);
    if (a.available) expect(a.adapter?.path).toMatch(/^(navigator|dawn-default|dawn-swiftshader|dawn-opengles)$/);
  });

  it.runIf(ci)('an adapter is acquired under CI=true (no silent skip)', () => {
    expect(be, `no WebGPU adapter under CI: ${reason}`).not.toBeNull();
  });

  it('registers the webgpu backend on import', () => {
    expect(T.registeredBackends()).toContain('webgpu');
  });
});

describe.skipIf(!be)(`webgpu device (${reason})`, () => {
  const b = be as WebGpuBackend;

  it('reads and keeps the adapter and device limits', () => {
    const info = b.info();
    console.log(`[webgpu tests] ${info.description}`);
    const { limits } = b;
    for (const [k, v] of Object.entries(limits)) expect(v, k).toBeGreaterThan(0);
    expect(b.context.adapter.adapterLimits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(limits.maxComputeInvocationsPerWorkgroup);
    const t = b.tile;
    expect(t.wx * t.wy).toBeLessThanOrEqual(limits.maxComputeInvocationsPerWorkgroup);
    expect((t.wy * t.tm * t.bk + t.bk * t.wx * t.tn) * 4).toBeLessThanOrEqual(limits.maxComputeWorkgroupStorageSize);
  });

  it('matmul tiles fit tight limits', () => {
    const tight = { ...b.limits, maxComputeInvocationsPerWorkgroup: 64, maxComputeWorkgroupSizeX: 64, maxComputeWorkgroupSizeY: 64, maxComputeWorkgroupStorageSize: 4096 };
    const t = chooseTile(tight);
    expect(t.wx * t.wy).toBeLessThanOrEqual(64);
    expect((t.wy * t.tm * t.bk + t.bk * t.wx * t.tn) * 4).toBeLessThanOrEqual(4096);
  });

  it('kernels run on a device with the feature level default limits (the tightest a device may have)', async () => {
    const small = await WebGpuBackend.create({ limits: 'default' });
    try {
      expect(small.limits.maxComputeInvocationsPerWorkgroup).toBeLessThanOrEqual(b.limits.maxComputeInvocationsPerWorkgroup);
      const [M, K, N] = [37, 45, 29];
      const a = randomData(M * K, 1);
      const c = randomData(K * N, 2);
      const out = small.matmul(view(small.upload('float32', a), 'float32', [M, K]), view(small.upload('float32', c), 'float32', [K, N]));
      const got = await small.read(out, 'float32', M * N);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a[i * K + k] * c[k * N + j];
          expect(got[i * N + j]).toBeCloseTo(s, 4);
        }
      }
      const x = small.upload('float32', randomData(3 * 700, 3));
      const sm = await small.read(small.softmax(view(x, 'float32', [3, 700]), 700, false), 'float32', 2100);
      expect(Array.from(sm.slice(0, 700)).reduce((p, q) => p + q, 0)).toBeCloseTo(1, 5);
      const s = await small.read(small.reduce('sum', view(x, 'float32', [3, 700]), [0, 1]), 'float32', 1);
      const want = Array.from(randomData(3 * 700, 3)).reduce((p, q) => p + q, 0);
      expect(s[0]).toBeCloseTo(want, 3);
    } finally {
      small.destroy();
    }
  });

  it("runs tensor ops through setBackend('webgpu')", async () => {
    const be2 = await T.setBackend('webgpu');
    expect(be2.name).toBe('webgpu');
    const a = T.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const c = T.matmul(a, a.transpose(0, 1));
    expect(Array.from(await c.toArray())).toEqual([14, 32, 32, 77]);
    const s = T.softmax(a);
    const got = Array.from(await s.toArray());
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const z = e[0] + e[1] + e[2];
    got.forEach((g, i) => expect(g).toBeCloseTo(e[i % 3] / z, 6));
    expect(Array.from(await T.sum(a, 1).toArray())).toEqual([6, 15]);
    expect(Array.from(await a.add(1).mul(a).toArray())).toEqual([2, 6, 12, 20, 30, 42]);
    for (const t of [a, c, s]) t.dispose();
  });

  it('acquireDevice names every path it tried when none works', async () => {
    // A GPU object whose requestAdapter finds nothing.
    const fake = { requestAdapter: async () => null } as unknown as GPU;
    await expect(acquireDevice({ gpu: fake })).rejects.toThrow(/no adapter/);
  });
});
