import type { Tensor } from '@siftjs/tensor';
import type { FineTuner } from './fine-tuner.js';
import { locateNonFinite, nonFiniteFlags } from './finite.js';

/*
 * Dynamic loss scaling, as torch.cuda.amp.GradScaler does it. A float16 gradient flushes to zero below 2^-24 and
 * overflows past 65504: the loss is multiplied by a large power of two before backward, so small gradients stay
 * representable while they pass through half-precision tensors, and are divided by the same factor before they are
 * used. When any gradient is not finite the scale was too large: the step is skipped and the scale halved; after
 * `growthInterval` steps in a row without overflow it doubles again.
 *
 * One difference from PyTorch, where the scaler unscales `.grad` at step time: a scaler here is bound to one tuner,
 * which divides each gradient as backward delivers it (FineTuner.setLossScale). SIFT keeps evidence from gradients
 * across steps — the sums of an accumulated or Fisher choice of components, re-selection nominees — and dividing at
 * step time would mix scales whenever the scale changes between those steps.
 */

export interface GradScalerOptions {
  /** The first scale (PyTorch's default 2^16). */
  initScale?: number;
  /** Multiplies the scale after `growthInterval` steps without overflow (default 2). */
  growthFactor?: number;
  /** Multiplies the scale after a step that overflowed (default 0.5). */
  backoffFactor?: number;
  /** Steps without overflow before the scale grows (default 2000). */
  growthInterval?: number;
  /** false: the scale is 1 and step() always steps (PyTorch's enabled=False). */
  enabled?: boolean;
}

/** A step skipped because a gradient was not finite: which one first, and where, at which scale. */
export interface SkippedStep {
  scale: number;
  tensor: string;
  where: string;
}

export interface GradScalerState {
  scale: number;
  growthTracker: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
}

const F32_MAX = 3.4028234663852886e38;

export class GradScaler {
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  readonly enabled: boolean;
  private scaleValue: number;
  /** Steps in a row without overflow since the scale last changed. */
  private growthTracker = 0;
  /** Set by checkGradients for this iteration: null when every gradient was finite. */
  private found: SkippedStep | null = null;
  private checked = false;
  /** Every step skipped so far, in order. */
  readonly skipped: SkippedStep[] = [];

  /** Scales `tuner`'s gradients from now on (refused when it trains a tensor in half precision). */
  constructor(
    readonly tuner: FineTuner,
    { initScale = 2 ** 16, growthFactor = 2, backoffFactor = 0.5, growthInterval = 2000, enabled = true }: GradScalerOptions = {},
  ) {
    if (!(initScale > 0 && Number.isFinite(initScale))) throw new RangeError(`GradScaler: initScale must be a positive finite number, got ${initScale}`);
    if (!(growthFactor > 1)) throw new RangeError(`GradScaler: growthFactor must be above 1, got ${growthFactor}`);
    if (!(backoffFactor > 0 && backoffFactor < 1)) throw new RangeError(`GradScaler: backoffFactor must be in (0, 1), got ${backoffFactor}`);
    if (!(Number.isInteger(growthInterval) && growthInterval > 0)) throw new RangeError(`GradScaler: growthInterval must be a whole number ≥ 1, got ${growthInterval}`);
    this.scaleValue = initScale;
    this.growthFactor = growthFactor;
    this.backoffFactor = backoffFactor;
    this.growthInterval = growthInterval;
    this.enabled = enabled;
    tuner.setLossScale(this.getScale());
  }

  /** The current scale (1 when disabled). */
  getScale(): number {
    return this.enabled ? this.scaleValue : 1;
  }

  /** loss · scale, to call backward on. The caller keeps ownership of `loss` and owns the result. */
  scale(loss: Tensor): Tensor {
    return loss.mul(this.getScale());
  }

  /**
   * Whether every gradient the next step applies is finite (one device read for all of them), remembered for
   * step() and update(); the first that is not is named. The gradients are already divided by the scale.
   */
  async checkGradients(): Promise<SkippedStep | null> {
    if (this.checked) return this.found;
    const named = this.tuner.stepTensors().gradients;
    const flags = nonFiniteFlags(named.map(([, g]) => g));
    try {
      const bad = await locateNonFinite(named, await flags.toArray());
      this.found = bad ? { scale: this.scaleValue, tensor: bad.name, where: bad.where } : null;
    } finally {
      flags.dispose();
    }
    this.checked = true;
    return this.found;
  }

  /**
   * The optimizer step, unless a gradient is not finite: then nothing changes — SIFT also forgets a choice of
   * components made from these gradients (discardBackward) — and the skip is recorded and returned. Resolves to
   * null when the step was taken. Call zeroGrad after either way, then update().
   */
  async step(): Promise<SkippedStep | null> {
    if (!this.enabled) {
      this.tuner.step();
      return null;
    }
    const found = await this.checkGradients();
    if (found) {
      this.tuner.discardBackward?.();
      this.skipped.push(found);
      return found;
    }
    this.tuner.step();
    return null;
  }

  /** Adjusts the scale after the step: backs off after an overflow, grows after growthInterval clean steps. */
  update(): void {
    if (!this.enabled) return;
    if (!this.checked) throw new Error('GradScaler: update() without step() in this iteration');
    if (this.found) {
      this.scaleValue *= this.backoffFactor;
      this.growthTracker = 0;
    } else if (++this.growthTracker === this.growthInterval) {
      // Grown only while it stays a finite float32, as PyTorch's kernel keeps it.
      const grown = this.scaleValue * this.growthFactor;
      if (grown <= F32_MAX) this.scaleValue = grown;
      this.growthTracker = 0;
    }
    this.found = null;
    this.checked = false;
    this.tuner.setLossScale(this.scaleValue);
  }

  stateDict(): GradScalerState {
    return { scale: this.scaleValue, growthTracker: this.growthTracker, growthFactor: this.growthFactor, backoffFactor: this.backoffFactor, growthInterval: this.growthInterval };
  }

  /** Resumes a saved scaler: its scale and how many clean steps it had counted (the factors must agree). */
  loadStateDict(s: GradScalerState): void {
    if (!(s.scale > 0 && Number.isFinite(s.scale)) || !(Number.isInteger(s.growthTracker) && s.growthTracker >= 0 && s.growthTracker < this.growthInterval)) {
      throw new RangeError(`GradScaler.loadStateDict: scale ${s.scale} and growthTracker ${s.growthTracker} are not a state this scaler can be in`);
    }
    if (s.growthFactor !== this.growthFactor || s.backoffFactor !== this.backoffFactor || s.growthInterval !== this.growthInterval) {
      throw new RangeError("GradScaler.loadStateDict: the saved growth/backoff factors or interval differ from this scaler's");
    }
    this.scaleValue = s.scale;
    this.growthTracker = s.growthTracker;
    this.tuner.setLossScale(this.getScale());
  }
}
