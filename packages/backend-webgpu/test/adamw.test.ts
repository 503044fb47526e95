import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { expectState, hyperArb, step } from './adamw-reference.js';
import { acquire, randomData } from './helpers.js';

const { backend: be, reason } = await acquire();

describe.skipIf(!be)(`webgpu adamw (${reason})`, () => {
  const b = be as WebGpuBackend;

  it('dense steps match float64 AdamW (p, m, v), over several steps and sizes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1000, max: 5000 })), hyperArb, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 2 ** 30 }), async (n, h0, steps, seed) => {
        const p = randomData(n, seed);
        const [m, v] = [new Float32Array(n), new Float32Array(n)];
        const [sp, sm, sv] = [b.upload('float32', p), b.alloc('float32', n), b.alloc('float32', n)];
        for (let t = 1; t <= steps; t++) {
          const h = { ...h0, step: t };
          const g = randomData(n, seed + t, -1, 1);
          const sg = b.upload('float32', g);
          b.adamw(sp, sg, sm, sv, 'float32', n, h);
          b.free(sg);
          const sc = step(p, g, m, v, h);
          const what = `adamw n ${n} step ${t} ${JSON.stringify(h)}`;
          const got = [await b.read(sp, 'float32', n), await b.read(sm, 'float32', n), await b.read(sv, 'float32', n)] as Float32Array[];
          expectState(`${what}: p`, got[0], p, sc.p, 8);
          expectState(`${what}: m`, got[1], m, sc.m, 4);
          expectState(`${what}: v`, got[2], v, sc.v, 5);
          // The next step starts from the GPU's state, so each step is measured on its own (no compounding).
          [p, m, v].forEach((a, j) => a.set(got[j]));
        }
        for (const s of [sp, sm, sv]) b.free(s);
      }),
      { numRuns: 20 },
    );
  });

  it('float64, int32 and short state storages are rejected with the op', () => {
    const s = b.alloc('float32', 4);
    const h = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 };
    expect(() => b.adamw(s, s, s, s, 'float64', 4, h)).toThrow(/adamw float64 ×4: float64 is not supported on WebGPU/);
    expect(() => b.adamw(s, s, s, s, 'int32', 4, h)).toThrow(/adamw int32 ×4: float32, float16 or bfloat16 only, got int32/);
    expect(() => b.adamw(s, s, s, b.alloc('float32', 3), 'float32', 4, h)).toThrow('webgpu adamw float32 ×4: v holds 3 elements, fewer than 4');
  });
});
