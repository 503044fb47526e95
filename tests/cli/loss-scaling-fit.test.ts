import { fit } from '@siftjs/cli';
import { createFineTuner, GradScaler } from '@siftjs/sift-optimizer';
import '@siftjs/backend-cpu';
import { batch, heldOut, One, task } from './one-param-task.js';
import { describe, expect, it } from 'vitest';

/*
 * fit under a loss scaler: a step whose scaled gradient overflows is skipped, logged and told, the run goes on, and
 * neither the optimizer nor the learning-rate schedule advances for it (Hugging Face's Trainer steps its scheduler
 * only when the optimizer ran). The expected weights are AdamW written out here in float64 from its definition.
 */

/** Σw², times `factor(step)` (1-based; held-out evaluations count as step 1). */
const scaledTask = (model: One, factor: (step: number) => number) => task(model, (w, s) => w.square().sum().mul(factor(s)));


/** AdamW (β 0.9/0.999, ε 1e-8, no decay) on Σw², one step per learning rate, in float64. */
function adamw(w: number[], lrs: number[]): number[] {
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  lrs.forEach((lr, t) => {
    for (let i = 0; i < w.length; i++) {
      const g = 2 * w[i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      w[i] -= (lr * (m[i] / (1 - 0.9 ** (t + 1)))) / (Math.sqrt(v[i] / (1 - 0.999 ** (t + 1))) + 1e-8);
    }
  });
  return w;
}

describe('fit with a loss scaler', () => {
  it('skips the step whose gradient overflows, says so, and goes on without advancing the schedule', async () => {
    const model = new One([1, 2]);
    const tuner = createFineTuner(model, { method: 'full', lr: 0.1 });
    const scaler = new GradScaler(tuner, { initScale: 2 ** 16 });
    const events: Record<string, unknown>[] = [];
    const told: string[] = [];
    // Step 2's loss is 1e36·Σw²: finite, but its gradient times 2^16 is past float32's range.
    const result = await fit({
      task: scaledTask(model, (s) => (s === 2 ? 1e36 : 1)),
      tuner,
      scaler,
      onSkip: (m) => told.push(m),
      batchesFor: () => [batch, batch, batch],
      heldOut,
      epochs: 1,
      lr: 0.1,
      warmupFraction: 0,
      log: { path: null, write: (e: Record<string, unknown>) => events.push(e) } as never,
      quiet: true,
      divergence: null, // step 2's loss is huge by design
    });
    expect(result.skippedSteps).toBe(1);
    expect(events.filter((e) => e.event === 'skip')).toEqual([{ method: 'full', epoch: 0, step: 2, event: 'skip', tensor: 'w', scale: 2 ** 16, nextScale: 2 ** 15 }]);
    expect(told).toEqual([expect.stringMatching(/^step 2 skipped: the gradient of 'w' overflowed at loss scale 65536 \(Infinity at \[0\]\); the scale is now 32768$/)]);
    // Two AdamW steps at the schedule's first two rates (linear decay over 3 steps): the skipped step took none.
    const expected = adamw([1, 2], [0.1, 0.1 * (2 / 3)]);
    const got = Array.from(await model.w.toArray());
    got.forEach((x, i) => expect(x).toBeCloseTo(expected[i], 6));
    tuner.dispose();
    model.dispose();
  });

  it('refuses a scaler bound to another tuner', async () => {
    const model = new One([1]);
    const tuner = createFineTuner(model, { method: 'full' });
    const other = createFineTuner(new One([1]), { method: 'full' });
    const common = { task: scaledTask(model, () => 1), batchesFor: () => [batch], heldOut, epochs: 1, lr: 0.1, log: { path: null, write: () => {} } as never, quiet: true };
    await expect(fit({ ...common, tuner, scaler: new GradScaler(other) })).rejects.toThrow(/bound to another tuner/);
    tuner.dispose();
    other.dispose();
  });
});
