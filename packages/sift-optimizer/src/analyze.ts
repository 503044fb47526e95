import type { Module } from '@siftjs/nn';
import { keep, noGrad, scope, stack, type Tensor, topkAbs, widestFloat, zerosLike } from '@siftjs/tensor';

export interface GradientShare {
  name: string;
  shape: number[];
  /** L2 norm of the gradient summed over the batches. */
  norm: number;
  /** For each fraction x: the share of the squared L2 norm held by the ⌈x·numel⌉ largest-magnitude components. */
  shares: Record<string, number>;
  /**
   * For each fraction x: the same components' L2 norm over the whole gradient's, ‖G[top]‖ / ‖G‖ — the ratio the
   * authors' code records (`grad proportion`). It is the square root of the share: a 37% share is a 61% norm ratio.
   */
  normRatios: Record<string, number>;
}

export interface AnalyzeOptions<B> {
  /** Fractions of components, e.g. [0.001, 0.01, 0.05, 0.1]. */
  fractions: number[];
  /** The training loss of the model on one batch. */
  loss: (model: Module, batch: B) => Tensor;
  /** Which parameters to report (default: every matrix, rank ≥ 2). */
  include?: (name: string, param: Tensor) => boolean;
}

/**
 * How concentrated the gradient is — the paper's Figure 3(d): the gradient of the loss summed over `batches`,
 * and per tensor the share of its squared norm (its energy) carried by the top x% of components. A pre-trained
 * model's shares are high (quasi-sparse gradients); a randomly initialised one's are lower.
 *
 * Every parameter is made to require grad for the analysis and restored after; gradients are freed. The squares
 * are summed in the backend's widest float (float64 on the CPU, float32 on WebGPU).
 */
export async function analyzeGradients<B>(model: Module, batches: Iterable<B>, opts: AnalyzeOptions<B>): Promise<GradientShare[]> {
  for (const x of opts.fractions) if (!(x > 0 && x <= 1)) throw new RangeError(`analyzeGradients: fractions must be in (0, 1], got ${x}`);
  const include = opts.include ?? ((_: string, p: Tensor) => p.rank >= 2);
  const params = [...model.namedParameters()];
  const saved = params.map(([, p]) => p.requiresGrad);
  for (const [, p] of params) {
    p.grad?.dispose();
    p.grad = null;
    p.requiresGrad = true;
  }
  try {
    let seen = 0;
    for (const batch of batches) {
      scope(() => opts.loss(model, batch).backward());
      seen++;
    }
    if (seen === 0) throw new Error('analyzeGradients: no batches');
    // Per tensor one small vector [‖g‖², top-share numerators…], computed on the device and read back together.
    const chosen = params.filter(([name, p]) => include(name, p));
    const sums = noGrad(() =>
      chosen.map(([, p]) =>
        keep(
          scope(() => {
            const g = (p.grad ?? zerosLike(p)).reshape([p.size]).cast(widestFloat(p.backend));
            const parts = [g.square().sum(), ...opts.fractions.map((x) => topkAbs(g, Math.ceil(x * p.size)).values.square().sum())];
            return stack(parts);
          }),
        ),
      ),
    );
    const out: GradientShare[] = [];
    for (const [i, [name, p]] of chosen.entries()) {
      const [total, ...tops] = await sums[i].toArray();
      sums[i].dispose();
      const shares = Object.fromEntries(opts.fractions.map((x, j) => [String(x), total > 0 ? tops[j] / total : 0]));
      const normRatios = Object.fromEntries(opts.fractions.map((x, j) => [String(x), total > 0 ? Math.sqrt(tops[j]) / Math.sqrt(total) : 0]));
      out.push({ name, shape: [...p.shape], norm: Math.sqrt(total), shares, normRatios });
    }
    return out;
  } finally {
    params.forEach(([, p], i) => {
      p.grad?.dispose();
      p.grad = null;
      p.requiresGrad = saved[i];
    });
  }
}

/** The mean over tensors for each fraction (the paper's per-model curve), of the squared-norm shares or the norm ratios. */
export function meanShares(report: GradientShare[], measure: 'shares' | 'normRatios' = 'shares'): Record<string, number> {
  const out: Record<string, number> = {};
  if (report.length === 0) return out;
  for (const key of Object.keys(report[0][measure])) out[key] = report.reduce((s, r) => s + r[measure][key], 0) / report.length;
  return out;
}
