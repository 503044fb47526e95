import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadState, SIFT, type SIFTOptions, saveState, saveStateAsync } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { backendsUnderTest, syncOrAsync } from '../support/backends.js';
import { bitsOf, lossOf, Net } from './net.js';
import { lcg, randomRows } from './reference.js';

describe.each(backendsUnderTest())('SIFT resume on $name', (backend) => {
  beforeAll(() => backend.start());
  const dir = mkdtempSync(join(tmpdir(), 'sift-resume-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.prop(
    {
      seed: fc.integer({ min: 0, max: 10_000 }),
      stop: fc.integer({ min: 0, max: 6 }),
      selection: fc.constantFrom<SIFTOptions['selection']>('first-batch', { accumulate: 3 }, { fisher: 2 }, 'random'),
      reselect: fc.boolean(),
    },
    { numRuns: 10 },
  )('a run saved after any step and resumed from the base model continues bit-exactly', async ({ seed, stop, selection, reselect }) => {
    const next = lcg(seed);
    const batches = Array.from({ length: 6 }, () => randomRows(next, 3));
    const opts: SIFTOptions = {
      density: 0.3,
      targets: ['a', 'b'],
      dense: ['b.bias'],
      selection,
      lr: 0.05,
      weightDecay: 0.01,
      maxGradNorm: 1,
      reselect: reselect ? { every: 2, fraction: 0.5 } : undefined,
    };
    const train = (net: Net, sift: SIFT, from: number, to: number) => {
      for (let t = from; t < to; t++) {
        lossOf(net, batches[t]).backward();
        sift.step();
        sift.zeroGrad();
      }
    };
    const fresh = () => {
      manualSeed(seed);
      const net = new Net();
      manualSeed(seed + 1); // the same generator state for 'random' selection in both runs
      return { net, sift: new SIFT(net, opts) };
    };

    const whole = fresh();
    train(whole.net, whole.sift, 0, 6);

    const first = fresh();
    train(first.net, first.sift, 0, stop);
    const file = join(dir, `state-${seed}-${stop}.safetensors`);
    await syncOrAsync(() => saveState(first.sift, file), () => saveStateAsync(first.sift, file));
    first.sift.dispose();
    first.net.dispose();

    const resumed = fresh(); // the base model again: the state carries everything trained
    loadState(resumed.sift, file);
    train(resumed.net, resumed.sift, stop, 6);

    expect(await bitsOf(resumed.net)).toEqual(await bitsOf(whole.net));
    expect(resumed.sift.steps).toBe(6);
    for (const s of [whole, resumed]) {
      s.sift.dispose();
      s.net.dispose();
    }
  });
});
