import { type AdamWHyper, adamwConstants } from '@siftjs/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { WebGpuBackend } from '../src/index.js';
import { expectState, hyperArb, step } from './adamw-reference.js';
import { acquire, acquireNarrow, randomData } from './helpers.js';

const { backend: be, reason } = await acquire();
const narrow = be ? await acquireNarrow() : null;
afterAll(() => narrow?.destroy());

describe.skipIf(!be)(`webgpu adamwIncrement (${reason})`, () => {
  const b = be as WebGpuBackend;

  /**
   * SIFT's step (adamwIncrement): k distinct positions of a parameter, the increment δ stepped from its gradient,
   * then param[idx] = base + δ. With `perComponent`, each component carries its own step count (as after a
   * re-selection), some of them fresh.
   */
  async function increment(bk: WebGpuBackend, N: number, k: number, h0: Omit<AdamWHyper, 'step'>, steps: number, seed: number, perComponent: boolean): Promise<void> {
    const param = randomData(N, seed);
    const idx = Array.from(randomData(N, seed + 1), (r, i) => [r, i] as const)
      .sort((a, c) => a[0] - c[0])
      .slice(0, k)
      .map(([, i]) => i);
    const base = Float32Array.from(idx, (i) => param[i]);
    const [delta, m, v] = [new Float32Array(k), new Float32Array(k), new Float32Array(k)];
    const counts = Float32Array.from(randomData(k, seed + 2), (r) => (r < 0.5 ? 0 : Math.round(10 * r)));
    const sp = bk.upload('float32', param);
    const si = bk.upload('int32', Int32Array.from(idx));
    const [sb, sd, sm, sv] = [bk.upload('float32', base), bk.alloc('float32', k), bk.alloc('float32', k), bk.alloc('float32', k)];
    const ss = perComponent ? bk.upload('float32', counts) : null;
    for (let t = 1; t <= steps; t++) {
      const h = { ...h0, step: t };
      const g = randomData(k, seed + 10 + t, -1, 1);
      const sg = bk.upload('float32', g);
      bk.adamwIncrement({ param: sp, paramDtype: 'float32', paramSize: N, indices: si, base: sb, delta: sd, grad: sg, m: sm, v: sv, steps: ss, dtype: 'float32', k, c: adamwConstants(h) });
      bk.free(sg);
      // The reference: δ is the parameter AdamW steps; each component's own count when there are counts.
      const sc = { p: new Float64Array(k), m: new Float64Array(k), v: new Float64Array(k) };
      for (let i = 0; i < k; i++) {
        const one = (a: number) => Float32Array.of(a);
        const d = one(delta[i]);
        const [mi, vi] = [one(m[i]), one(v[i])];
        const s = step(d, one(g[i]), mi, vi, { ...h, step: perComponent ? counts[i] + 1 : t });
        [sc.p[i], sc.m[i], sc.v[i]] = [s.p[0], s.m[0], s.v[0]];
        [delta[i], m[i], v[i]] = [d[0], mi[0], vi[0]];
        if (perComponent) counts[i] += 1;
      }
      const what = `adamwIncrement N ${N} k ${k} step ${t}${perComponent ? ' (own counts)' : ''}`;
      const got = [await bk.read(sd, 'float32', k), await bk.read(sm, 'float32', k), await bk.read(sv, 'float32', k)] as Float32Array[];
      // Per-component bias corrections are computed on the GPU (a series for 1 − βᵗ): a few ulps more.
      expectState(`${what}: delta`, got[0], delta, sc.p, perComponent ? 24 : 8);
      expectState(`${what}: m`, got[1], m, sc.m, 4);
      expectState(`${what}: v`, got[2], v, sc.v, 5);
      [delta, m, v].forEach((a, j) => a.set(got[j]));
      if (ss) expect(Array.from(await bk.read(ss, 'float32', k))).toEqual(Array.from(counts));
      // The parameter holds fl(base + δ) at idx and is untouched elsewhere.
      const gotP = await bk.read(sp, 'float32', N);
      idx.forEach((at, i) => expect(gotP[at]).toBe(Math.fround(base[i] + delta[i])));
      const outside = new Set(idx);
      for (let i = 0; i < N; i++) if (!outside.has(i)) expect(gotP[i]).toBe(param[i]);
    }
    for (const s of [sp, si, sb, sd, sm, sv, ...(ss ? [ss] : [])]) bk.free(s);
  }

  const incrementArb = fc.record({
    N: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 500, max: 4000 })),
    frac: fc.double({ min: 0, max: 1, noNaN: true }),
    h: hyperArb,
    steps: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
    perComponent: fc.boolean(),
  });
  const run = (bk: WebGpuBackend) => (a: { N: number; frac: number; h: Omit<AdamWHyper, 'step'>; steps: number; seed: number; perComponent: boolean }) =>
    increment(bk, a.N, Math.max(1, Math.round(a.frac * a.N)), a.h, a.steps, a.seed, a.perComponent);

  it('the increment step moves δ, m, v at k positions and writes base + δ into the parameter (one fused kernel)', async () => {
    await fc.assert(fc.asyncProperty(incrementArb, run(b)), { numRuns: 15 });
  });

  it('the same on a device allowing eight storage buffers (with step counts: the step, then the write-back)', async () => {
    const eight = new WebGpuBackend({ ...b.context, limits: { ...b.limits, maxStorageBuffersPerShaderStage: 8 } });
    await fc.assert(fc.asyncProperty(incrementArb, run(eight)), { numRuns: 8 });
  });

  it('the same on a device sized for four storage buffers (moments, increment, sum and scatter)', async () => {
    if (!narrow) throw new Error('no second device');
    await fc.assert(fc.asyncProperty(incrementArb, run(narrow)), { numRuns: 10 });
  });

  it('an index out of range is skipped and reported at the next read as adamwIncrement', async () => {
    for (const bk of [b, narrow!]) {
      const p = bk.upload('float32', new Float32Array(4));
      const idx = bk.upload('int32', Int32Array.from([1, 4]));
      const [base, delta, g, m, v] = [bk.fill('float32', 2, 1), bk.alloc('float32', 2), bk.fill('float32', 2, 1), bk.alloc('float32', 2), bk.alloc('float32', 2)];
      const c = adamwConstants({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 });
      bk.adamwIncrement({ param: p, paramDtype: 'float32', paramSize: 4, indices: idx, base, delta, grad: g, m, v, steps: null, dtype: 'float32', k: 2, c });
      await expect(bk.read(p, 'float32', 4)).rejects.toThrow(/^adamwIncrement: index 4 is out of range for 4 elements/);
      const got = await bk.read(p, 'float32', 4);
      expect([got[0], got[2], got[3]]).toEqual([0, 0, 0]);
      expect(got[1]).toBeCloseTo(0.9, 6);
    }
  });
});
