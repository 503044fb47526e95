import { Linear } from '@siftjs/nn';
import { type FineTuner, fullFineTune, GradScaler, type GradScalerOptions, SIFT, type SIFTOptions, type SkippedStep } from '@siftjs/sift-optimizer';
import { manualSeed, noGrad, type Tensor, tensor, zeros } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { bitsOf, lossOf, Net } from './net.js';
import { castParameters } from './weights.js';
import { lcg, randomRows } from './reference.js';

/**
 * Dynamic loss scaling (GradScaler) against what PyTorch documents for torch.cuda.amp.GradScaler: "if infs/NaNs
 * are found, optimizer.step() is skipped and the scale is multiplied by backoff_factor; if no inf/NaN occurs for
 * growth_interval consecutive iterations, the scale is multiplied by growth_factor". The scale's rule below is that
 * sentence; the training runs are compared with runs made without a scaler (and without the skipped batch).
 */

/** A tuner with one gradient the test sets, counting its steps (nothing of SIFT in the way of the scale's rule). */
function countingTuner(g: Tensor): FineTuner & { steps: number; scales: number[] } {
  return {
    method: 'test',
    paramGroups: [{ lr: 1 }],
    steps: 0,
    scales: [],
    setLossScale(s: number) {
      this.scales.push(s);
    },
    step() {
      this.steps++;
    },
    zeroGrad() {},
    trainableCount: () => g.size,
    memoryReport: () => {
      throw new Error('not used');
    },
    stepTensors: () => ({ gradients: [['g', g]], values: [] }),
    describe: () => ({}),
    dispose() {},
  };
}

/** Trains a fresh Net (seeded) with the tuner `build` makes, one step per batch, under a scaler when `scaling` is given. */
async function train(
  build: (net: Net) => FineTuner,
  batches: number[][][],
  scaling: GradScalerOptions | null,
  seed = 7,
): Promise<{ bits: Record<string, number[]>; skipped: number; scale: number; skips: SkippedStep[] }> {
  manualSeed(seed);
  const net = new Net();
  const tuner = build(net);
  const scaler = scaling ? new GradScaler(tuner, scaling) : null;
  let skipped = 0;
  for (const rows of batches) {
    const loss = lossOf(net, rows);
    const scaled = scaler ? scaler.scale(loss) : loss;
    scaled.backward();
    if (scaled !== loss) scaled.dispose();
    loss.dispose();
    if (scaler) {
      if (await scaler.step()) skipped++;
      scaler.update();
    } else tuner.step();
    tuner.zeroGrad();
  }
  const bits = await bitsOf(net);
  tuner.dispose();
  net.dispose();
  return { bits, skipped, scale: scaler?.getScale() ?? 1, skips: scaler?.skipped ?? [] };
}

const trainSift = (opts: SIFTOptions, batches: number[][][], scaling: GradScalerOptions | null) => train((net) => new SIFT(net, opts), batches, scaling);

describe.each(backendsUnderTest())('GradScaler on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop(
    {
      overflows: fc.array(fc.boolean(), { minLength: 1, maxLength: 24 }),
      growthInterval: fc.integer({ min: 1, max: 4 }),
      growthFactor: fc.constantFrom(2, 4),
      backoffFactor: fc.constantFrom(0.5, 0.25),
    },
    { numRuns: backend.name === 'webgpu' ? 4 : 40 },
  )('the scale and the skipped steps follow PyTorch documented rule', async ({ overflows, growthInterval, growthFactor, backoffFactor }) => {
    const g = zeros([3]);
    const tuner = countingTuner(g);
    const scaler = new GradScaler(tuner, { initScale: 1024, growthInterval, growthFactor, backoffFactor });
    let expected = 1024;
    let clean = 0;
    for (const overflow of overflows) {
      // What backward would leave (divided on arrival): a gradient, or an overflowed one.
      noGrad(() => g.copy_(tensor([overflow ? Infinity : 3, -1, 0])));
      const skip = await scaler.step();
      expect(skip !== null).toBe(overflow);
      scaler.update();
      if (overflow) {
        expected *= backoffFactor;
        clean = 0;
      } else if (++clean === growthInterval) {
        expected *= growthFactor;
        clean = 0;
      }
      expect(scaler.getScale()).toBe(expected);
      expect(tuner.scales.at(-1)).toBe(expected); // the tuner divides by the scale the next backward uses
    }
    expect(tuner.steps).toBe(overflows.filter((o) => !o).length);
    expect(scaler.skipped.map((s) => s.tensor)).toEqual(overflows.filter((o) => o).map(() => 'g'));
    g.dispose();
  });

  test.prop(
    {
      seed: fc.integer({ min: 0, max: 100_000 }),
      selection: fc.constantFrom<SIFTOptions['selection']>('first-batch', { accumulate: 2 }, { fisher: 2 }, 'weight-magnitude'),
      reselect: fc.constantFrom(undefined, { every: 2, fraction: 0.5 }),
      growthInterval: fc.integer({ min: 1, max: 3 }),
    },
    { numRuns: backend.name === 'webgpu' ? 3 : 15 },
  )('without overflow, SIFT trained with loss scaling is bitwise SIFT trained without', async ({ seed, selection, reselect, growthInterval }) => {
    const next = lcg(seed);
    const batches = Array.from({ length: 5 }, () => randomRows(next, 3));
    const opts: SIFTOptions = { density: 0.25, targets: ['a', 'b.weight'], dense: ['b.bias'], lr: 0.05, selection, reselect, maxGradNorm: 0.5 };
    // A power-of-two scale multiplies every gradient exactly (backward is linear in the loss's gradient), and the
    // division undoes it exactly: nothing may differ by a bit.
    const scaled = await trainSift(opts, batches, { initScale: 2 ** 16, growthInterval });
    const plain = await trainSift(opts, batches, null);
    expect(scaled.skipped).toBe(0);
    expect(scaled.bits).toEqual(plain.bits);
    expect(scaled.scale).toBe(2 ** 16 * 2 ** Math.floor(5 / growthInterval));
  });

  it.each(['first-batch', { accumulate: 2 }] as const)(
    'a step that overflows changes nothing, chooses nothing, and is reported; the run then equals one without that batch (%o)',
    async (selection) => {
      const next = lcg(11);
      const batches = Array.from({ length: 4 }, () => randomRows(next, 3));
      // The first batch's gradient overflows at a scale of 2^127: its rows are large enough for |∂L/∂y| > 2.
      const huge = batches[0].map((r) => r.map((x) => 100 * x));
      const opts: SIFTOptions = { density: 0.25, targets: ['a', 'b.weight'], lr: 0.05, selection };
      const scaled = await trainSift(opts, [huge, ...batches.slice(1)], { initScale: 2 ** 127, backoffFactor: 2 ** -117, growthInterval: 1000 });
      expect(scaled.skipped).toBe(1);
      expect(scaled.skips[0].scale).toBe(2 ** 127);
      expect(scaled.skips[0].where).toMatch(/Infinity|NaN/);
      expect(scaled.scale).toBe(2 ** 10);
      const plain = await trainSift(opts, batches.slice(1), null);
      expect(scaled.bits).toEqual(plain.bits);
    },
  );

  it.each(['full', 'SIFT with a dense head'] as const)('without overflow, dense fine-tuning (%s) with loss scaling is bitwise the same without', async (which) => {
    const next = lcg(5);
    const batches = Array.from({ length: 4 }, () => randomRows(next, 3));
    const build = (net: Net) => (which === 'full' ? fullFineTune(net, { lr: 0.05, maxGradNorm: 0.5 }) : new SIFT(net, { density: 0.5, targets: ['a'], dense: ['b'], lr: 0.05 }));
    const scaled = await train(build, batches, { initScale: 2 ** 20, growthInterval: 2 }, 3);
    expect(scaled.skipped).toBe(0); // every step taken
    expect(scaled.bits).toEqual((await train(build, batches, null, 3)).bits);
  });

  it('a saved scaler resumes with the same scale and count of clean steps', async () => {
    const g = zeros([1]);
    const tuner = countingTuner(g);
    const a = new GradScaler(tuner, { initScale: 8, growthInterval: 3 });
    const run = async (s: GradScaler, overflow: boolean) => {
      noGrad(() => g.copy_(tensor([overflow ? NaN : 1])));
      await s.step();
      s.update();
    };
    for (const o of [false, true, false, false]) await run(a, o);
    const b = new GradScaler(countingTuner(g), { initScale: 8, growthInterval: 3 });
    b.loadStateDict(a.stateDict());
    await run(a, false);
    await run(b, false);
    expect(b.getScale()).toBe(a.getScale());
    expect(a.getScale()).toBe(8); // 8 → backoff 4 → three clean steps → 8
    expect(() => new GradScaler(tuner, { growthInterval: 2 }).loadStateDict(a.stateDict())).toThrow(/differ/);
    g.dispose();
  });

  it('refuses what it cannot do: a tensor trained in half precision, update without a step, bad options', async () => {
    if (backend.name === 'cpu' || backend.name === 'cpu-ts') {
      const m = new Linear(2, 2);
      castParameters(m, 'float16');
      const tuner = fullFineTune(m);
      expect(() => new GradScaler(tuner)).toThrow(/'weight' is trained in float16/);
      tuner.dispose();
      m.dispose();
    }
    const g = zeros([1]);
    expect(() => new GradScaler(countingTuner(g)).update()).toThrow(/without step/);
    expect(() => new GradScaler(countingTuner(g), { backoffFactor: 1 })).toThrow(RangeError);
    expect(() => new GradScaler(countingTuner(g), { growthInterval: 0 })).toThrow(RangeError);
    expect(() => new GradScaler(countingTuner(g), { initScale: Infinity })).toThrow(RangeError);
    g.dispose();
  });
});
