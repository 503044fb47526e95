import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fit, saveCheckpoint } from '@siftjs/cli';
import { createFineTuner, NonFiniteError, saveDelta, type SparseDelta } from '@siftjs/sift-optimizer';
import type { Tensor } from '@siftjs/tensor';
import '@siftjs/backend-cpu';
import { batch, heldOut, One, task } from './one-param-task.js';
import { afterAll, describe, expect, it } from 'vitest';

/*
 * fit's checks, each on a one-parameter model whose loss is written so that the number in question goes bad at a
 * known step: the loss, a gradient, an update, a divergence. The expected steps follow from the formulas.
 */

const dir = mkdtempSync(join(tmpdir(), 'siftjs-nonfinite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


async function run(values: number[], loss: (w: Tensor, step: number) => Tensor, o: { lr?: number; steps?: number; divergence?: number | null } = {}) {
  const model = new One(values);
  const tuner = createFineTuner(model, { method: 'full', lr: o.lr ?? 0.1 });
  try {
    return await fit({
      task: task(model, loss),
      tuner,
      batchesFor: () => Array.from({ length: o.steps ?? 3 }, () => batch),
      heldOut,
      epochs: 1,
      lr: o.lr ?? 0.1,
      warmupFraction: 0,
      log: { path: null, write: () => {} } as never,
      quiet: true,
      divergence: o.divergence,
    });
  } finally {
    tuner.dispose();
    model.dispose();
  }
}

describe('fit stops at the first non-finite number, saying what and where', () => {
  it('a loss that is NaN at step 2 with finite weights', async () => {
    // loss = Σw² + (NaN at step 2): the weights stay finite, the loss does not.
    const err = await run([1, 2], (w, s) => w.square().sum().add(s === 2 ? NaN : 0)).catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err.message).toMatch(/the training loss is NaN at step 2 \(full\), with every weight finite after the previous step/);
  });

  it('a loss that is infinite at step 1 is laid on the forward pass, not on --lr', async () => {
    const err = await run([1, 2], (w) => w.square().sum().add(Infinity)).catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err.message).toMatch(/the training loss is Infinity at step 1 \(full\), before any update/);
    expect(err.message).not.toMatch(/--lr/);
  });

  it("a gradient that is infinite while the loss is finite names the parameter", async () => {
    // d/dw √w = 1/(2√w) is +∞ at w = 0, where √w is 0: a finite loss with an infinite gradient.
    const err = await run([0, 4], (w) => w.sqrt().sum()).catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err.message).toMatch(/the gradient of 'w' is not finite at step 1 \(full; it sums to Infinity, the loss was 2\)/);
  });

  it('an update that overflows names the parameter and the step that made it', async () => {
    // loss = Σw, gradient 1: AdamW's first step moves w by lr·m̂/(√v̂+ε) = lr·1/(1+1e-8): with lr 1e38, w = −3e38
    // goes past −3.4e38 (float32's largest) to −∞. The loss −3e38 is finite; the overflow is read with step 2's loss.
    const err = await run([-3e38, 0], (w) => w.sum(), { lr: 1e38 }).catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err.message).toMatch(/step 1 \(full\) left 'w' not finite \(it sums to -Infinity: the update overflowed\)/);
  });

  it('an update that overflows at the last step of an epoch is found before the evaluation', async () => {
    const err = await run([-3e38, 0], (w) => w.sum(), { lr: 1e38, steps: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err.message).toMatch(/step 1 \(full\) left 'w' not finite/);
  });

  it('a loss past 100× the first step’s stops the run, unless divergence is allowed', async () => {
    // The loss ignores w (Σ0·w keeps it in the graph): 1, 50, 100.5 — 100.5 > 100 × 1 at step 3.
    const losses = [1, 50, 100.5];
    const loss = (w: Tensor, s: number) => w.mul(0).sum().add(losses[s - 1]);
    const err = await run([1], loss).catch((e) => e);
    expect(err.name).toBe('DivergenceError');
    expect(err.message).toMatch(/diverged: 100\.5 at step 3 \(full\) is more than 100× the starting loss 1\.000; lower --lr, or pass --allow-divergence/);
    const allowed = await run([1], loss, { divergence: null });
    expect(allowed.losses).toEqual(losses);
    // Exactly 100×: not past it.
    expect((await run([1], (w, s) => w.mul(0).sum().add([1, 100, 100][s - 1]))).losses).toEqual([1, 100, 100]);
  });
});

describe('nothing non-finite is saved', () => {
  it('a checkpoint whose state holds an infinity is refused and nothing is published', () => {
    const model = new One([1, Infinity]);
    const tuner = createFineTuner(model, { method: 'full', lr: 0.1 });
    const ckpt = join(dir, 'ckpt');
    expect(() => saveCheckpoint(ckpt, tuner, { epoch: 1, method: 'full', settings: {} })).toThrow(NonFiniteError);
    expect(() => saveCheckpoint(ckpt, tuner, { epoch: 1, method: 'full', settings: {} })).toThrow(/checkpoint of epoch 1: 'param\/w' holds Infinity at \[1\]; not saved/);
    expect(existsSync(ckpt)).toBe(false);
    tuner.dispose();
    model.dispose();
  });

  const delta = (values: number[]): SparseDelta => ({
    sparse: { 'a.weight': { shape: [2, 2], indices: Int32Array.of(0, 3), values: Float32Array.from(values) } },
    dense: {},
    metadata: { density: 0.5, targets: ['a'], dense: [], selection: 'first-batch', fingerprint: '', tensorFingerprints: {} },
  });

  it('saveDelta refuses a NaN increment, and one that F16 storage would turn into an infinity', () => {
    const file = join(dir, 'd.safetensors');
    expect(() => saveDelta(file, delta([1, NaN]))).toThrow(/'a\.weight\.delta' holds NaN at \[1\]; a delta holds finite numbers only/);
    // 70000 is a finite float32; the largest half is 65504, and 70000 rounds to +∞.
    expect(() => saveDelta(file, delta([70000, 1]), { dtype: 'F16' })).toThrow(/'a\.weight\.delta' holds Infinity \(70000 stored as F16\) at \[0\]/);
    saveDelta(file, delta([70000, 1])); // F32 holds it
    expect(existsSync(file)).toBe(true);
  });
});
