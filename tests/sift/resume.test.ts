import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Module } from '@siftjs/nn';
import { loadState, SIFT, type SIFTOptions, saveState, saveStateAsync } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, syncOrAsync } from '../support/backends.js';
import { values } from '../support/read.js';
import { type Batch, GPT2 } from './architectures.js';
import { lossOf, Net } from './net.js';
import { lcg, randomRows } from './reference.js';
import { bits, weightsOf } from './weights.js';

/** Where a run is stopped: after `micro` backward passes of step `step` (micro 0: between steps). */
interface Stop {
  step: number;
  micro: number;
}

/** A model, its loss, and the run's batches: steps × micro-batches. */
interface Setup<B> {
  make(): Module;
  loss(model: Module, b: B): { backward(): void; dispose(): void };
  batches: B[][];
  opts: SIFTOptions;
  seed: number;
}

/** The kinds of pending state a save held, to show every one was exercised. */
interface Pending {
  selectionPasses: boolean;
  reselectionDue: boolean;
  nominees: boolean;
  sparseGradient: boolean;
  denseGradient: boolean;
}

describe.each(backendsUnderTest())('SIFT resume on $name', (backend) => {
  beforeAll(() => backend.start());
  const dir = mkdtempSync(join(tmpdir(), 'sift-resume-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;

  function fresh<B>(s: Setup<B>) {
    manualSeed(s.seed);
    const model = s.make();
    manualSeed(s.seed + 1); // the same generator state for a 'random' choice in every run
    return { model, sift: new SIFT(model, s.opts) };
  }

  /** Runs passes from `from` up to `to` (exclusive), stepping at the end of each step. */
  function run<B>(s: Setup<B>, r: ReturnType<typeof fresh<B>>, from: Stop, to: Stop): void {
    for (let t = from.step; t < s.batches.length; t++) {
      const micro = s.batches[t];
      for (let j = t === from.step ? from.micro : 0; j < micro.length; j++) {
        if (t === to.step && j === to.micro) return;
        const loss = s.loss(r.model, micro[j]);
        loss.backward();
        loss.dispose();
      }
      if (t === to.step && micro.length === to.micro) return;
      r.sift.step();
      r.sift.zeroGrad();
    }
  }

  /** The whole run, then one run stopped, saved to a file, and resumed from the base model at each stop: bitwise the same. */
  async function resumesEverywhere<B>(s: Setup<B>, stops: Stop[]): Promise<Pending[]> {
    const end = { step: s.batches.length, micro: 0 };
    const whole = fresh(s);
    run(s, whole, { step: 0, micro: 0 }, end);
    const want = await weightsOf(whole.model);
    const wantSparse = await Promise.all(whole.sift.sparse.map(async (x) => [bits(await values(x.delta!)), bits(await values(x.m)), bits(await values(x.v)), x.step]));
    whole.sift.dispose();
    whole.model.dispose();
    const seen: Pending[] = [];
    for (const stop of stops) {
      const first = fresh(s);
      run(s, first, { step: 0, micro: 0 }, stop);
      const sd = first.sift.stateDict();
      const sparse = Object.values(sd.sparse);
      seen.push({
        selectionPasses: sparse.some((x) => x.passes > 0),
        reselectionDue: sparse.some((x) => x.reselect > 0),
        nominees: sparse.some((x) => 'nominees' in x.tensors),
        sparseGradient: sparse.some((x) => x.received),
        denseGradient: first.sift.denseParams.some((d) => d.param.grad !== null),
      });
      const file = join(dir, `state-${files++}.safetensors`);
      await syncOrAsync(() => saveState(first.sift, file), () => saveStateAsync(first.sift, file));
      first.sift.dispose();
      first.model.dispose();

      const resumed = fresh(s); // the base model again: the state carries everything trained
      loadState(resumed.sift, file);
      run(s, resumed, stop, end);
      const got = await weightsOf(resumed.model);
      const where = `stopped after ${stop.micro} passes of step ${stop.step + 1}`;
      for (const name of Object.keys(want)) expect(bits(got[name]), `${where}: ${name}`).toEqual(bits(want[name]));
      const gotSparse = await Promise.all(resumed.sift.sparse.map(async (x) => [bits(await values(x.delta!)), bits(await values(x.m)), bits(await values(x.v)), x.step]));
      expect(gotSparse, `${where}: δ, moments and step counts`).toEqual(wantSparse);
      expect(resumed.sift.steps).toBe(s.batches.length);
      resumed.sift.dispose();
      resumed.model.dispose();
    }
    return seen;
  }

  const everyStop = (steps: number, micro: number): Stop[] => Array.from({ length: steps * micro }, (_, i) => ({ step: Math.floor(i / micro), micro: i % micro }));

  const netSetup = (seed: number, micro: number, opts: Partial<SIFTOptions>, steps = 5): Setup<number[][]> => {
    const next = lcg(seed);
    return {
      make: () => new Net(),
      loss: (m, rows) => lossOf(m as Net, rows),
      batches: Array.from({ length: steps }, () => Array.from({ length: micro }, () => randomRows(next, 3))),
      opts: { density: 0.3, targets: ['a', 'b.weight'], dense: ['b.bias'], lr: 0.05, weightDecay: 0.01, maxGradNorm: 1, groups: [{ params: ['b.weight'], weightDecay: 0.3 }], ...opts },
      seed,
    };
  };

  it('every kind of pending state is saved: a selection between passes, a re-selection due, nominees and gradients between micro-batches', async () => {
    const s = netSetup(7, 2, { selection: { accumulate: 3 }, reselect: { every: 1, fraction: 0.5 } }, 4);
    const seen = await resumesEverywhere(s, everyStop(4, 2));
    for (const kind of ['selectionPasses', 'reselectionDue', 'nominees', 'sparseGradient', 'denseGradient'] as const) {
      expect(seen.some((p) => p[kind]), `some stop held ${kind}`).toBe(true);
    }
  });

  test.prop(
    {
      seed: fc.integer({ min: 0, max: 1_000_000 }),
      selection: fc.constantFrom<SIFTOptions['selection']>('first-batch', { accumulate: 3 }, { fisher: 2 }, 'weight-magnitude', 'random'),
      micro: fc.integer({ min: 1, max: 2 }),
      reselect: fc.constantFrom(undefined, { every: 1, fraction: 0.5 }, { every: 2, fraction: 0.34 }),
    },
    { numRuns: backend.name === 'webgpu' ? 2 : 8 },
  )('a run saved at any pass and resumed from the base model equals the run that never stopped, bitwise', async ({ seed, selection, micro, reselect }) => {
    await resumesEverywhere(netSetup(seed, micro, { selection, reselect }), everyStop(5, micro));
  });

  it('GPT-2 (Fisher choice, re-selection, micro-batches) saved mid-selection, mid-step with nominees and between steps resumes bitwise', { timeout: 240_000 }, async () => {
    const next = lcg(15);
    // SwiftShader is slow: two steps there (a stop between the Fisher passes, and one with nominees mid-step).
    const steps = backend.name === 'webgpu' ? 2 : 4;
    const s: Setup<Batch> = {
      make: GPT2.build,
      loss: GPT2.loss,
      batches: Array.from({ length: steps }, () => [GPT2.batch(next), GPT2.batch(next)]),
      opts: { density: 0.1, targets: GPT2.targets, dense: GPT2.dense, selection: { fisher: 2 }, lr: 0.01, weightDecay: 0.1, maxGradNorm: 1, reselect: { every: 1, fraction: 0.5 } },
      seed: 15,
    };
    const stops = backend.name === 'webgpu' ? [{ step: 0, micro: 1 }, { step: 1, micro: 1 }] : [{ step: 0, micro: 1 }, { step: 1, micro: 0 }, { step: 2, micro: 1 }];
    await resumesEverywhere(s, stops);
  });
});
