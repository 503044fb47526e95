import { LRScheduler, linearWarmupLinearDecay } from '@siftjs/nn';
import type { FineTuner } from '@siftjs/sift-optimizer';
import { manualSeed, memoryStats, resetPeakBytes } from '@siftjs/tensor';
import type { TokenBatch } from '../data/batches.js';
import type { TaskModel } from '../model-dir.js';
import { type Evaluation, evaluateAsync } from './evaluate.js';
import type { JsonlLog } from './log.js';
import { Progress } from './progress.js';
import { batchTensors } from './tensors.js';

export interface FitOptions {
  task: TaskModel;
  tuner: FineTuner;
  /** The training batches of epoch e (0-based): re-shuffled per epoch by the caller's seed. */
  batchesFor: (epoch: number) => TokenBatch[];
  heldOut: readonly TokenBatch[];
  epochs: number;
  /** Peak learning rate; the schedule is rebuilt from it (a resumed optimizer holds a decayed one). */
  lr: number;
  /** Linear warm-up over this share of all steps, then linear decay to 0 (Hugging Face's default schedule). */
  warmupFraction?: number;
  log: JsonlLog;
  label?: string;
  quiet?: boolean;
  /** Resume: epochs already done (their batches are skipped; the schedule continues). */
  startEpoch?: number;
  /** Stop after this many epochs in all (a checkpoint is left for a later resume). */
  stopAfter?: number;
  /** Re-seeds the generator (dropout) at the start of each epoch, so a run resumed at an epoch boundary matches. */
  seed?: number;
  /** Called after each backward pass, before the optimizer step: the step's gradients are there to read. */
  afterBackward?: (step: number) => void | Promise<void>;
  /** Called after each epoch's evaluation, e.g. to checkpoint. */
  afterEpoch?: (epoch: number, evaluation: Evaluation) => void | Promise<void>;
}

export interface FitResult {
  /** Training loss per step. */
  losses: number[];
  evaluations: (Evaluation & { epoch: number })[];
  seconds: number;
  tokensPerSecond: number;
  /** The backend's peak bytes during training above what was in use before it. */
  peakBytes: number;
}

/** The training loop every method shares: forward, backward, step, zero, schedule; evaluation after each epoch. */
export async function fit(o: FitOptions): Promise<FitResult> {
  const { task, tuner } = o;
  const start = o.startEpoch ?? 0;
  const perEpoch = o.batchesFor(0).length;
  const total = perEpoch * o.epochs;
  for (const g of tuner.paramGroups) g.lr = o.lr;
  const sched = new LRScheduler(tuner, linearWarmupLinearDecay(Math.round((o.warmupFraction ?? 0.06) * total), total));
  for (let s = 0; s < start * perEpoch; s++) sched.step();
  const before = memoryStats().bytesInUse;
  const measured = resetPeakBytes();
  const losses: number[] = [];
  const evaluations: FitResult['evaluations'] = [];
  const bar = o.quiet ? null : new Progress(o.label ?? tuner.method, total);
  const t0 = performance.now();
  let tokens = 0;
  let step = start * perEpoch;
  const end = Math.min(o.epochs, o.stopAfter ?? o.epochs);
  for (let epoch = start; epoch < end; epoch++) {
    manualSeed((o.seed ?? 0) * 7919 + epoch);
    for (const b of o.batchesFor(epoch)) {
      const t = batchTensors(b);
      const { loss, logits } = task.forward(t.ids, t.mask, t.labels);
      logits.dispose();
      if (!loss) throw new Error('fit: the model returned no loss (are labels missing?)');
      loss.backward();
      t.dispose();
      // One read per step, started before the optimizer step is queued so that a GPU runs the step while the loss
      // travels back; on the CPU the read is immediate. A non-finite loss still stops the run at this step.
      const read = loss.item().finally(() => loss.dispose());
      read.catch(() => {}); // awaited below; if the step throws first, the read must not go unhandled
      await o.afterBackward?.(step);
      tuner.step();
      sched.step();
      tuner.zeroGrad();
      const value = await read;
      if (!Number.isFinite(value)) throw new Error(`fit: the loss became ${value} at step ${step + 1} (${tuner.method}); lower --lr`);
      tokens += t.tokens;
      losses.push(value);
      step++;
      o.log.write({ method: tuner.method, epoch, step, loss: value, lr: tuner.paramGroups[0].lr });
      bar?.update(step, value, tokens / ((performance.now() - t0) / 1000));
    }
    const ev = await evaluateAsync(task, o.heldOut);
    evaluations.push({ ...ev, epoch });
    o.log.write({ method: tuner.method, epoch, event: 'eval', ...ev });
    await o.afterEpoch?.(epoch, ev);
  }
  bar?.stop();
  const seconds = (performance.now() - t0) / 1000;
  return { losses, evaluations, seconds, tokensPerSecond: tokens / seconds, peakBytes: measured ? memoryStats().peakBytes - before : NaN };
}
