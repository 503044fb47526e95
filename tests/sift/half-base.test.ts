import { applyDelta, extractDelta, SIFT } from '@siftjs/sift-optimizer';
import { getBackend, manualSeed, scope, type Tensor, tensor } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { values } from '../support/read.js';
import { BFLOAT16, BINARY16, decodeHalf, roundToHalf } from '../reference/half-format.js';
import { Net } from './net.js';
import { siftOracle, type Weights } from './oracle.js';
import { lcg, NET_SHAPES, netGradient, randomRows } from './reference.js';
import { castParameters, weightsOf } from './weights.js';

/*
 * SIFT on frozen half-precision weights (mixed precision as PyTorch users know it): the base stays float16 /
 * bfloat16, the increment δ, its gradient and AdamW's moments stay float32, and the weight the forward reads is
 * base + δ rounded to the half format. The learning rate is chosen so that every update is far below the spacing of
 * the half-precision weights: an increment kept in half precision, or updates written straight into the weight,
 * would lose them, where δ in float32 accumulates them and a merge applies their sum. The expected δ comes from the
 * float64 oracle (the paper's equations), whose forward reads its weights rounded by the IEEE reference. The first
 * step's gradient is the dense gradient of a half-precision weight, which is in the weight's format (as PyTorch's):
 * the oracle rounds that one, and where the run's choice differs only within that format's resolution, follows it.
 * Later steps' G[idx] come from the sampled product in float32, unrounded, where the backend has `sampledMatmul`;
 * without it (WebGPU) every step's gradient is the dense one, in the weight's format like PyTorch's, and the oracle
 * rounds each of them.
 */

const FORMATS = { float16: BINARY16, bfloat16: BFLOAT16 } as const;

/** Σ y² with float32 activations: the input stays float32 whatever the weights' format, as a model's hidden states. */
const lossOf = (net: Net, rows: number[][]): Tensor => scope(() => net.forward(tensor(rows)).square().sum());

/** Each value rounded to the half format from float32, where base + δ is summed (δ and the state are float32). */
function rounded(w: Weights, dtype: 'float16' | 'bfloat16'): Weights {
  const r = (x: number) => {
    const q = roundToHalf(Math.fround(x), FORMATS[dtype]);
    return q.nan ? NaN : decodeHalf(q.bits, FORMATS[dtype]);
  };
  return Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Float64Array.from(v, r)]));
}


describe.each(backendsUnderTest().filter((b) => b.half))('SIFT on half-precision weights on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop({ seed: fc.integer({ min: 0, max: 100_000 }), dtype: fc.constantFrom('bfloat16' as const, 'float16' as const) }, { numRuns: backend.name === 'webgpu' ? 2 : 8 })(
    'updates below the half spacing accumulate in the float32 increment, the weight reads base + δ rounded, and a merge applies their sum',
    async ({ seed, dtype }) => {
      manualSeed(seed);
      const net = new Net();
      castParameters(net, dtype);
      const w0 = await weightsOf(net);
      const next = lcg(seed);
      const steps = Array.from({ length: 24 }, () => [randomRows(next, 3)]);
      // AdamW moves each component by about lr a step: 24 steps of lr stay under the spacing of the larger weights
      // (|w| ≥ 2^-2: 2^-9 in bfloat16, 2^-12 in float16), so some increments never show in the weight.
      const lr = dtype === 'bfloat16' ? 2 ** -16 : 2 ** -17;
      const opts = { density: 0.5, targets: ['a', 'b.weight'], dense: [], lr };
      const sift = new SIFT(net, opts);
      for (const s of sift.sparse) {
        expect(s.dtype).toBe('float32');
        expect(s.param.dtype).toBe(dtype);
      }
      const chosenAfter: Record<string, number[]>[] = [];
      for (const [rows] of steps) {
        lossOf(net, rows).backward();
        sift.step();
        sift.zeroGrad();
        chosenAfter.push(Object.fromEntries(await Promise.all(sift.sparse.map(async (s) => [s.name, await values(s.indices!)] as const))));
      }
      let passes = 0;
      const sampled = getBackend().sampledMatmul !== undefined;
      const gradient = (w: Weights, rows: number[][]) => {
        const g = netGradient(rounded(w, dtype), rows);
        return passes++ === 0 || !sampled ? rounded(g, dtype) : g;
      };
      const oracle = siftOracle(w0, steps, gradient, {
        ...opts,
        shapes: NET_SHAPES,
        selection: 'first-batch',
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        follow: { resolution: dtype === 'bfloat16' ? 2 ** -8 : 2 ** -11, chosenAfter: (t, name) => chosenAfter[t][name] },
      });
      const got = await weightsOf(net);
      let movedBelowSpacing = 0;
      for (const s of sift.sparse) {
        const want = oracle.sparse[s.name];
        const idx = await values(s.indices!);
        expect([...idx].sort((a, b) => a - b), `${s.name}: chosen`).toEqual([...(want.indices ?? [])].sort((a, b) => a - b));
        const deltaAt = new Map<number, number>();
        (await values(s.delta!)).forEach((d, j) => deltaAt.set(idx[j], d));
        const delta = (want.indices ?? []).map((i) => deltaAt.get(i) as number);
        // δ is a sum of 24 moves of about lr with both signs, so its error is measured against lr. Within lr·2^-7: the
        // first gradient is rounded to the weight's format, and where the run's and the oracle's sums of it fall on
        // either side of a rounding boundary the moments differ by 2^-8 of that gradient's share (~2^-9·lr in δ at
        // the end). A δ held in the half format would be off by half its spacing, δ·2^-9 (bfloat16), every step.
        expectClose(delta, want.delta, 0, lr * 2 ** -7, `${s.name}: δ in float32`);
        (want.indices ?? []).forEach((i, j) => {
          const base = w0[s.name][i];
          // The weight the forward reads: base + δ rounded once to the half format (reference rounding).
          const stored = rounded({ x: Float64Array.of(Math.fround(base + delta[j])) }, dtype).x[0];
          expect(got[s.name][i], `${s.name}[${i}]`).toBe(stored);
          if (stored === base && delta[j] !== 0) movedBelowSpacing++;
        });
      }
      // The test means something only if some increments are invisible in the half-precision weight.
      expect(movedBelowSpacing).toBeGreaterThan(0);
      // Merged into float32 weights, each chosen component is base + δ to float32's precision: the sum of updates
      // the half-precision weight could not show.
      const delta = await extractDelta(sift);
      manualSeed(seed);
      const merged = new Net();
      castParameters(merged, dtype);
      castParameters(merged, 'float32'); // the same half-precision base, exactly, in float32
      await applyDelta(merged, delta);
      const after = await weightsOf(merged);
      for (const s of sift.sparse) {
        const want = oracle.sparse[s.name];
        const expected = (want.indices ?? []).map((i, j) => w0[s.name][i] + want.delta[j]);
        expectClose((want.indices ?? []).map((i) => after[s.name][i]), expected, 0, 2e-7, `${s.name}: merged base + δ`);
      }
      sift.dispose();
      net.dispose();
      merged.dispose();
    },
  );
});
