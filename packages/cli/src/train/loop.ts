import { LRScheduler, linearWarmupLinearDecay } from '@siftjs/nn';
import { type FineTuner, type GradScaler, NonFiniteError } from '@siftjs/sift-optimizer';
import { concat, getRngState, keep, manualSeed, memoryStats, noGrad, resetPeakBytes, type RngState, scope, setRngState, type Tensor } from '@siftjs/tensor';
import type { TokenBatch } from '../data/batches.js';
import type { TaskModel } from '../model-dir.js';
import { type Evaluation, evaluateAsync } from './evaluate.js';
import type { JsonlLog } from './log.js';
import { DivergenceError, sums } from './finite.js';
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
  /** Where each step and evaluation is recorded: a JsonlLog, or anything with its `path` and `write`. */
  log: Pick<JsonlLog, 'path' | 'write'>;
  label?: string;
  quiet?: boolean;
  /** Resume: epochs already done (their batches are skipped; the schedule continues). */
  startEpoch?: number;
  /**
   * Resume inside an epoch: steps already done in all (overrides `startEpoch`); that epoch's first batches are
   * skipped, and `rngState` (what `afterStep` was given with that step) puts the generator where it was.
   */
  startStep?: number;
  rngState?: RngState;
  /**
   * Called after each step (its update applied, its loss read): the state to save for a resume at `step` — the
   * tuner's state, the generator's (`rng`, taken before anything else draws from it) and the divergence reference.
   */
  afterStep?: (step: number, run: { epoch: number; loss: number; startLoss: number | undefined; rng: RngState }) => void | Promise<void>;
  /** Stop after this many epochs in all (a checkpoint is left for a later resume). */
  stopAfter?: number;
  /** Re-seeds the generator (dropout) at the start of each epoch, so a run resumed at an epoch boundary matches. */
  seed?: number;
  /** Called after each backward pass, before the optimizer step: the step's gradients are there to read. */
  afterBackward?: (step: number) => void | Promise<void>;
  /**
   * Stop when a step's training loss exceeds this multiple of the starting loss (default 100); null never stops.
   * The run stops on a non-finite loss, gradient or update whatever this says.
   */
  divergence?: number | null;
  /** The starting loss of a resumed run (the first step's, saved with its checkpoint); else the first step's. */
  startLoss?: number;
  /** Called after each epoch's evaluation, e.g. to checkpoint; `startLoss` is the divergence reference to keep. */
  afterEpoch?: (epoch: number, evaluation: Evaluation, run: { startLoss: number | undefined; seconds: number; peakBytes: number; skippedSteps: number }) => void | Promise<void>;
  /**
   * Dynamic loss scaling (float16 weights): the loss is scaled before backward, and a step whose gradients are not
   * finite is skipped — logged as a 'skip' event and told to `onSkip` — instead of stopping the run; the learning
   * rate schedule does not advance on a skipped step (as Hugging Face's Trainer). Bound to `tuner`.
   */
  scaler?: GradScaler;
  /** Steps the scaler skipped before `startEpoch` (a resumed run): the schedule did not advance for them. */
  skippedBefore?: number;
  /** Told of each skipped step (the terminal's fit prints one line per skip unless quiet). */
  onSkip?: (message: string) => void;
  /** Makes the progress display of `total` steps (none when `quiet`); `fit` gives the terminal's. */
  progress?: (label: string, total: number) => StepProgress;
}

/** What the loop tells a progress display: after each step, and at the end. */
export interface StepProgress {
  update(step: number, loss: number, tokensPerSecond: number): void;
  stop(): void;
}

export interface FitResult {
  /** Training loss per step. */
  losses: number[];
  /** The first step's loss of the whole run (a resumed run's comes from `startLoss`). */
  startLoss: number | undefined;
  evaluations: (Evaluation & { epoch: number })[];
  seconds: number;
  tokensPerSecond: number;
  /** The backend's peak bytes during training above what was in use before it. */
  peakBytes: number;
  /** Steps skipped by the loss scaler (their gradients overflowed). */
  skippedSteps: number;
}

/**
 * The training loop every method shares: forward, backward, step, zero, schedule; evaluation after each epoch.
 * Free of Node's modules, so a browser page trains with it (fit.ts adds the terminal's progress bar).
 */
export async function fitLoop(o: FitOptions): Promise<FitResult> {
  const { task, tuner } = o;
  const perEpoch = o.batchesFor(0).length;
  const total = perEpoch * o.epochs;
  const first = o.startStep ?? (o.startEpoch ?? 0) * perEpoch;
  const start = Math.floor(first / perEpoch);
  for (const g of tuner.paramGroups) g.lr = o.lr;
  const sched = new LRScheduler(tuner, linearWarmupLinearDecay(Math.round((o.warmupFraction ?? 0.06) * total), total));
  for (let s = 0; s < first - (o.skippedBefore ?? 0); s++) sched.step();
  const before = memoryStats().bytesInUse;
  const measured = resetPeakBytes();
  const losses: number[] = [];
  const evaluations: FitResult['evaluations'] = [];
  const bar = o.quiet ? null : (o.progress?.(o.label ?? tuner.method, total) ?? null);
  const t0 = performance.now();
  let tokens = 0;
  let step = first;
  const end = Math.min(o.epochs, o.stopAfter ?? o.epochs);
  const watch = new StepWatch(tuner, o.divergence === undefined ? 100 : o.divergence, o.startLoss, !o.scaler);
  const scaler = o.scaler;
  if (scaler && scaler.tuner !== tuner) throw new Error('fit: the scaler is bound to another tuner');
  let skippedSteps = 0;
  try {
    for (let epoch = start; epoch < end; epoch++) {
      manualSeed((o.seed ?? 0) * 7919 + epoch);
      const skip = epoch === start ? first - start * perEpoch : 0;
      if (skip > 0 && o.rngState) setRngState(o.rngState);
      for (const b of o.batchesFor(epoch).slice(skip)) {
        const t = batchTensors(b);
        const { loss, logits } = task.forward(t.ids, t.mask, t.labels);
        logits.dispose();
        if (!loss) throw new Error('fit: the model returned no loss (are labels missing?)');
        if (scaler) {
          const scaled = scaler.scale(loss);
          scaled.backward();
          scaled.dispose();
        } else loss.backward();
        t.dispose();
        // One read per step, started before the optimizer step is queued so that a GPU runs the step while the
        // values travel back (on the CPU the read is immediate): the loss, whether each gradient the step applies
        // is finite, and whether the previous step's update left each trained tensor finite.
        const read = watch.read(loss, step + 1);
        await o.afterBackward?.(step);
        const skip = scaler ? await scaler.step() : (tuner.step(), null);
        if (!skip) sched.step();
        tuner.zeroGrad();
        if (scaler) scaler.update();
        if (!skip) watch.afterStep(step + 1);
        const value = await read;
        if (skip) {
          skippedSteps++;
          const message = `step ${step + 1} skipped: the gradient of '${skip.tensor}' overflowed at loss scale ${skip.scale} (${skip.where}); the scale is now ${scaler?.getScale()}`;
          o.log.write({ method: tuner.method, epoch, step: step + 1, event: 'skip', tensor: skip.tensor, scale: skip.scale, nextScale: scaler?.getScale() });
          o.onSkip?.(message);
        }
        tokens += t.tokens;
        losses.push(value);
        step++;
        o.log.write({ method: tuner.method, epoch, step, loss: value, lr: tuner.paramGroups[0].lr });
        bar?.update(step, value, tokens / ((performance.now() - t0) / 1000));
        await o.afterStep?.(step, { epoch, loss: value, startLoss: watch.startLoss, rng: getRngState() });
      }
      await watch.settle(); // the epoch's last update, before it is evaluated and saved
      const ev = await evaluateAsync(task, o.heldOut);
      if (!Number.isFinite(ev.loss)) {
        throw new NonFiniteError(`fit: the held-out loss after epoch ${epoch + 1} is ${ev.loss} though every weight trained is finite (${tuner.method}): the forward pass overflows, or no held-out example has a token to predict`);
      }
      evaluations.push({ ...ev, epoch });
      o.log.write({ method: tuner.method, epoch, event: 'eval', ...ev });
      await o.afterEpoch?.(epoch, ev, { startLoss: watch.startLoss, seconds: (performance.now() - t0) / 1000, peakBytes: measured ? memoryStats().peakBytes - before : NaN, skippedSteps: (o.skippedBefore ?? 0) + skippedSteps });
    }
  } finally {
    watch.dispose();
  }
  bar?.stop();
  const seconds = (performance.now() - t0) / 1000;
  return { losses, startLoss: watch.startLoss, evaluations, seconds, tokensPerSecond: tokens / seconds, peakBytes: measured ? memoryStats().peakBytes - before : NaN, skippedSteps };
}

/**
 * The checks of each step, read with its loss: a non-finite loss, gradient or update, and a diverging loss, each
 * reported with the step and the tensor. Per tensor the device sums once (a NaN or an infinity makes the sum
 * non-finite; so would values summing past float32's range, which is no healthier); the sums of step n's update
 * are read with step n+1's loss (or at the end of the epoch), so the loop never waits on the device more than once
 * per step. A sum says which tensor, not where in it: by the time it is read the step has consumed the gradient.
 */
class StepWatch {
  /** The sums of what the previous step updated, to read with the next loss. */
  private pending: { names: string[]; flags: Tensor; step: number } | null = null;

  constructor(
    private readonly tuner: FineTuner,
    private readonly divergence: number | null,
    public startLoss: number | undefined,
    /** false under a loss scaler, which checks the gradients itself and skips the step instead of stopping. */
    private readonly checkGradients = true,
  ) {}

  /** Starts the step's read of [loss, a sum per gradient, a sum per tensor the previous step updated]; owns `loss`. */
  read(loss: Tensor, step: number): Promise<number> {
    const named = this.checkGradients ? this.tuner.stepTensors().gradients : [];
    const gradients = named.map(([n]) => n);
    const flags = sums(named.map(([, g]) => g), loss.dtype);
    const previous = this.pending;
    this.pending = null;
    const probe = noGrad(() => scope(() => keep(concat([loss.detach().reshape([1]), flags, ...(previous ? [previous.flags.cast(loss.dtype)] : [])]))));
    flags.dispose();
    previous?.flags.dispose();
    const read = probe.toArray().finally(() => {
      probe.dispose();
      loss.dispose();
    });
    const checked = read.then((v) => this.check(v, step, gradients, previous));
    checked.catch(() => {}); // awaited by the loop; if the step throws first, the read must not go unhandled
    return checked;
  }

  /** Queues the sums of what this step updated, for the next read. */
  afterStep(step: number): void {
    const { values } = this.tuner.stepTensors();
    this.pending = { names: values.map(([n]) => n), flags: sums(values.map(([, v]) => v)), step };
  }

  /** Reads the last step's update sums (once per epoch). */
  async settle(): Promise<void> {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    try {
      this.updateCheck(p.names, await p.flags.toArray(), 0, p.step);
    } finally {
      p.flags.dispose();
    }
  }

  private check(v: ArrayLike<number>, step: number, gradients: string[], previous: { names: string[]; step: number } | null): number {
    const method = this.tuner.method;
    // In the order they arose: the previous step's update, this step's loss, then its gradients.
    if (previous) this.updateCheck(previous.names, v, 1 + gradients.length, previous.step);
    const loss = v[0];
    if (!Number.isFinite(loss)) {
      const why = step === 1 ? 'before any update: the forward pass gives it with the weights it started from' : 'with every weight finite after the previous step; lower --lr';
      throw new NonFiniteError(`fit: the training loss is ${loss} at step ${step} (${method}), ${why}`);
    }
    const g = gradients.findIndex((_, i) => !Number.isFinite(v[1 + i]));
    if (g >= 0) throw new NonFiniteError(`fit: the gradient of '${gradients[g]}' is not finite at step ${step} (${method}; it sums to ${v[1 + g]}, the loss was ${loss}); lower --lr`);
    this.startLoss ??= loss;
    if (this.divergence !== null && this.startLoss > 0 && loss > this.divergence * this.startLoss) {
      throw new DivergenceError(
        `fit: the training loss diverged: ${loss.toPrecision(4)} at step ${step} (${method}) is more than ${this.divergence}× the starting loss ${this.startLoss.toPrecision(4)}; lower --lr, or pass --allow-divergence to go on`,
      );
    }
    return loss;
  }

  private updateCheck(names: string[], v: ArrayLike<number>, offset: number, step: number): void {
    const i = names.findIndex((_, j) => !Number.isFinite(v[offset + j]));
    if (i >= 0) throw new NonFiniteError(`fit: step ${step} (${this.tuner.method}) left '${names[i]}' not finite (it sums to ${v[offset + i]}: the update overflowed); lower --lr`);
  }

  dispose(): void {
    this.pending?.flags.dispose();
    this.pending = null;
  }
}
