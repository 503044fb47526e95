import { AdamW, type Module } from '@siftjs/nn';
import { noGrad, scope, stack, type Tensor } from '@siftjs/tensor';
import { SparseParam } from './sparse-param.js';

export interface SIFTOptions {
  /** Fraction x of each targeted tensor's components that train (the paper: 0.008 on GLUE, 0.05 on LLaMA). */
  density: number;
  /** Parameter names (or dotted suffixes / substrings of module paths) updated sparsely. */
  targets: string[];
  /** Parameter names trained densely (a classifier head). Everything else is frozen. */
  dense?: string[];
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Clip the global norm of the gradients being applied (sparse and dense) to this. */
  maxGradNorm?: number;
}

/** A parameter name matches a target when the target appears in it as whole dotted components. */
function matches(name: string, patterns: string[]): boolean {
  return patterns.some((t) => name === t || name.startsWith(`${t}.`) || name.includes(`.${t}.`) || name.endsWith(`.${t}`));
}

/**
 * SIFT (Song et al., ICML 2024): sparse increments on targeted weights, selected from the first gradient, fed by
 * hooks that drop the dense gradient, stepped by sparse AdamW and written back into the weights immediately; a
 * dense AdamW for the `dense` parameters. Usage: `loss.backward(); sift.step(); sift.zeroGrad()`.
 */
export class SIFT {
  readonly sparse: SparseParam[] = [];
  readonly denseParams: Tensor[] = [];
  private readonly denseOpt: AdamW | null;
  private readonly opts: Required<Omit<SIFTOptions, 'maxGradNorm' | 'dense'>> & Pick<SIFTOptions, 'maxGradNorm'>;

  constructor(model: Module, opts: SIFTOptions) {
    if (!(opts.density > 0 && opts.density <= 1)) throw new RangeError(`SIFT: density must be in (0, 1], got ${opts.density}`);
    this.opts = { lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...opts };
    for (const [name, p] of model.namedParameters()) {
      if (matches(name, opts.targets) && p.rank >= 2) this.sparse.push(new SparseParam(name, p, opts.density));
      else if (opts.dense && matches(name, opts.dense)) {
        p.requiresGrad = true;
        this.denseParams.push(p);
      } else p.requiresGrad = false;
    }
    if (this.sparse.length === 0) throw new Error(`SIFT: no 2-D parameter matches the targets ${opts.targets.join(', ')}`);
    const { lr, betas, eps, weightDecay } = this.opts;
    this.denseOpt = this.denseParams.length ? new AdamW(this.denseParams, { lr, betas, eps, weightDecay }) : null;
  }

  /** Trainable components: k per sparse tensor plus every dense parameter element. */
  trainableCount(): number {
    return this.sparse.reduce((n, s) => n + s.k, 0) + this.denseParams.reduce((n, p) => n + p.size, 0);
  }

  step(): void {
    const { lr, betas, eps, weightDecay, maxGradNorm } = this.opts;
    if (maxGradNorm !== undefined) {
      // Clip over exactly the gradients being applied — the sparse ones and the dense ones — without reading back.
      noGrad(() =>
        scope(() => {
          const grads = [...this.sparse.map((s) => s.grad), ...this.denseParams.map((p) => p.grad).filter((g): g is Tensor => g !== null)];
          const norm = stack(grads.map((g) => g.square().sum())).sum().sqrt();
          const coef = norm.add(1e-6).reciprocal().mul(maxGradNorm).clamp(null, 1);
          for (const g of grads) g.copy_(g.mul(coef));
        }),
      );
    }
    for (const s of this.sparse) s.apply({ lr, beta1: betas[0], beta2: betas[1], eps, weightDecay });
    this.denseOpt?.step();
  }

  zeroGrad(): void {
    for (const s of this.sparse) s.zeroGrad();
    this.denseOpt?.zeroGrad();
  }

  /** Bytes SIFT keeps: values, indices, sparse gradient and moments (k each), and the peak transient dense gradient. */
  memoryReport(): { values: number; indices: number; optimizerState: number; gradients: number; peakTransientGradient: number } {
    const k = this.sparse.reduce((n, s) => n + s.k, 0);
    return {
      values: 4 * k,
      indices: 4 * k,
      optimizerState: 8 * k,
      gradients: 4 * k,
      peakTransientGradient: Math.max(0, ...this.sparse.map((s) => s.peakTransientBytes)),
    };
  }

  dispose(): void {
    for (const s of this.sparse) s.dispose();
  }
}
