/**
 * SIFT (Song et al., ICML 2024, §3 and Figure 5) written from the paper's equations and the behaviour documented
 * in docs/sift.md, in float64 over plain arrays. It imports nothing from the packages: a function returning dense
 * gradients is all it needs (a hand-written network's, or a float64 copy of a real model's — the models are checked
 * against PyTorch elsewhere, the SIFT logic here is not theirs).
 *
 * What it runs, per training step (a list of micro-batches, one backward pass each):
 * - each pass's dense gradient G of every trained tensor;
 * - choice of the k = ⌈x·n⌉ components of each target tensor (any rank): top-k |G| of the first pass (the paper),
 *   top-k |ΣG| or top-k Σg² over the first n passes (the gradient of a larger batch, the empirical Fisher), top-k |W0|
 *   before training, or a given set (the random baseline: drawn by the library's generator). Ties go to the lowest
 *   index. Until the choice nothing of the tensor trains; the step in which it is made trains on ΣG of every pass
 *   seen so far, the passes of earlier steps spent choosing included;
 * - the sparse gradient: Σ G[idx] over the step's passes;
 * - optionally, re-selection every `every` steps: r = round(f·k), at most k − 1 and n − k. On the first pass after it
 *   falls due the r unselected components of largest |G| are nominated and their gradient summed over that step's
 *   passes; at the step the r chosen components of smallest |δ| are dropped (equal |δ|: the later in the chosen
 *   order goes) and their weights return to the pre-trained values, and the nominees take their places with zero
 *   increment, zero moments and a step count of their own;
 * - clipping of the global L2 norm of the gradients about to be applied (sparse and dense): coefficient
 *   min(1, max / (norm + 1e-6)), as torch.nn.utils.clip_grad_norm_;
 * - AdamW (PyTorch's update) on each chosen component's increment δ, W[idx] = W0[idx] + δ, and on each dense tensor.
 *   Parameter groups: the first user group naming a tensor gives its lr (default: the base lr) and decay (default
 *   none); otherwise no decay on sparse increments, `weightDecay` on dense tensors of two or more dimensions, none
 *   on 1-D ones (biases, norm weights). Decoupled decay on a sparse tensor shrinks δ, never W0;
 * - a tensor that received no gradient since the last step is not stepped (as dense AdamW skips a null grad);
 * - the learning rate of step t is its group's lr × schedule(t − 1).
 */

export type Weights = Record<string, Float64Array>;

/** The dense float64 gradient of every parameter at `weights` on one micro-batch (absent: no gradient reached it). */
export type GradientFn<B> = (weights: Weights, batch: B) => Weights;

export type OracleSelection = 'first-batch' | { accumulate: number } | { fisher: number } | 'weight-magnitude' | { given: Record<string, number[]> };

export interface OracleOptions {
  density: number;
  targets: string[];
  dense: string[];
  shapes: Record<string, readonly number[]>;
  selection: OracleSelection;
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  groups?: { params: string[]; lr?: number; weightDecay?: number }[];
  /** lr multiplier of step t (1-based) is schedule(t − 1); none: 1. */
  schedule?: (stepsTaken: number) => number;
  maxGradNorm?: number;
  reselect?: { every: number; fraction: number };
  /**
   * For a run under test in float32: its chosen sets after each step (0-based), and the resolution of its scores,
   * relative to a decision's largest score. Where that run decided otherwise than the oracle, and its choice is also
   * a correct top-k at that resolution, the oracle follows it (two components that float32 cannot tell apart may be
   * taken either way); a choice outside that band is kept as the oracle's own, and the comparison fails.
   */
  follow?: { resolution: number; chosenAfter: (step: number, name: string) => number[] | null };
}

export interface OracleSparse {
  /** Chosen components in the order they hold (null: not chosen yet). */
  indices: number[] | null;
  delta: number[];
  m: number[];
  v: number[];
  steps: number[];
}

export interface OracleResult {
  weights: Weights;
  sparse: Record<string, OracleSparse>;
  /** Decisions where the oracle followed the run under test (a near-tie taken the other way, see `follow`). */
  followed: number;
}

/** A parameter name matches a pattern that is the whole name or a run of whole dotted components of it. */
export function nameMatches(name: string, pattern: string): boolean {
  const parts = name.split('.');
  const want = pattern.split('.');
  for (let start = 0; start + want.length <= parts.length; start++) {
    if (want.every((w, j) => parts[start + j] === w)) return true;
  }
  return false;
}

/**
 * The k positions of largest score, by score descending, ties to the lowest position, among the allowed ones —
 * by sorting, the obvious way.
 */
export function topk(score: ArrayLike<number>, k: number, allowed: (i: number) => boolean = () => true): number[] {
  const order = Array.from({ length: score.length }, (_, i) => i).filter(allowed);
  order.sort((i, j) => score[j] - score[i] || i - j);
  return order.slice(0, k);
}

/** Whether `set` is a correct top-k of `score` among the allowed positions, up to `band` (an absolute score). */
function isTopkWithin(score: ArrayLike<number>, k: number, allowed: (i: number) => boolean, set: number[], band: number): boolean {
  const inSet = new Set(set);
  if (inSet.size !== k || set.some((i) => !allowed(i) || i < 0 || i >= score.length)) return false;
  let lowestIn = Number.POSITIVE_INFINITY;
  let highestOut = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < score.length; i++) {
    if (!allowed(i)) continue;
    if (inSet.has(i)) lowestIn = Math.min(lowestIn, score[i]);
    else highestOut = Math.max(highestOut, score[i]);
  }
  return lowestIn >= highestOut - band;
}

interface SparseState {
  name: string;
  n: number;
  k: number;
  indices: number[] | null;
  base: number[];
  delta: number[];
  grad: number[];
  m: number[];
  v: number[];
  steps: number[];
  received: boolean;
  passes: number;
  sum: Float64Array | null;
  squares: Float64Array | null;
  due: number;
  nominees: number[] | null;
  nomineeGrad: number[];
}

interface DenseState {
  name: string;
  m: Float64Array;
  v: Float64Array;
  step: number;
  grad: Float64Array | null;
}

/** One run of SIFT over `steps` (each a list of micro-batches) from weights `w0`. */
export function siftOracle<B>(w0: Weights, steps: B[][], gradient: GradientFn<B>, o: OracleOptions): OracleResult {
  const w: Weights = Object.fromEntries(Object.entries(w0).map(([k, v]) => [k, Float64Array.from(v)]));
  const names = Object.keys(o.shapes);
  const matches = (name: string, patterns: string[]) => patterns.some((p) => nameMatches(name, p));
  let step = 0;
  let followed = 0;
  /** A top-k decision of the oracle's own, or the run's where that is also correct at its resolution. */
  const decide = (score: ArrayLike<number>, k: number, allowed: (i: number) => boolean, theirs: number[] | null): number[] => {
    const own = topk(score, k, allowed);
    if (!o.follow || !theirs) return own;
    const same = theirs.length === own.length && own.every((i) => theirs.includes(i));
    const top = own.length ? Math.abs(score[own[0]]) : 0;
    if (same || !isTopkWithin(score, k, allowed, theirs, o.follow.resolution * top)) return own;
    followed++;
    return topk(score, k, (i) => theirs.includes(i));
  };
  /** The run's chosen set after the current step, if it is being followed. */
  const theirSet = (name: string) => o.follow?.chosenAfter(step, name) ?? null;

  const sparse: SparseState[] = names
    .filter((n) => matches(n, o.targets))
    .map((name) => {
      const n = w[name].length;
      const k = Math.max(1, Math.ceil(o.density * n));
      return { name, n, k, indices: null, base: [], delta: [], grad: [], m: [], v: [], steps: [], received: false, passes: 0, sum: null, squares: null, due: 0, nominees: null, nomineeGrad: [] };
    });
  const dense: DenseState[] = names
    .filter((n) => !matches(n, o.targets) && matches(n, o.dense))
    .map((name) => ({ name, m: new Float64Array(w[name].length), v: new Float64Array(w[name].length), step: 0, grad: null }));

  // Hyper-parameters: the first user group that names the tensor, else the defaults.
  const hyper = (name: string, isSparse: boolean) => {
    const g = (o.groups ?? []).find((grp) => matches(name, grp.params));
    if (g) return { lr: g.lr ?? o.lr, weightDecay: g.weightDecay ?? 0 };
    if (isSparse) return { lr: o.lr, weightDecay: 0 };
    return { lr: o.lr, weightDecay: o.shapes[name].length >= 2 ? o.weightDecay : 0 };
  };

  const adopt = (s: SparseState, indices: number[], firstGrad: ArrayLike<number>) => {
    s.indices = indices;
    s.base = indices.map((i) => w[s.name][i]);
    s.delta = indices.map(() => 0);
    s.m = indices.map(() => 0);
    s.v = indices.map(() => 0);
    s.steps = indices.map(() => 0);
    s.grad = indices.map((i) => firstGrad[i]);
  };

  for (const s of sparse) {
    if (o.selection === 'weight-magnitude') {
      adopt(s, topk(w[s.name].map(Math.abs), s.k), new Float64Array(s.n));
    } else if (typeof o.selection === 'object' && 'given' in o.selection) {
      adopt(s, [...o.selection.given[s.name]], new Float64Array(s.n));
    }
  }
  const passesToChoose = o.selection === 'first-batch' ? 1 : typeof o.selection === 'object' && 'accumulate' in o.selection ? o.selection.accumulate : typeof o.selection === 'object' && 'fisher' in o.selection ? o.selection.fisher : 0;
  const fisher = typeof o.selection === 'object' && 'fisher' in o.selection;

  const pass = (G: Weights) => {
    for (const s of sparse) {
      const g = G[s.name];
      if (!g) continue; // no gradient reached this tensor
      s.received = true;
      if (!s.indices) {
        s.sum ??= new Float64Array(s.n);
        g.forEach((x, i) => ((s.sum as Float64Array)[i] += x));
        if (fisher) {
          s.squares ??= new Float64Array(s.n);
          g.forEach((x, i) => ((s.squares as Float64Array)[i] += x * x));
        }
        if (++s.passes === passesToChoose) {
          const score = fisher ? (s.squares as Float64Array) : s.sum.map(Math.abs);
          adopt(s, decide(score, s.k, () => true, theirSet(s.name)), s.sum);
          s.sum = null;
          s.squares = null;
        }
        continue;
      }
      if (s.due > 0) {
        if (!s.nominees) {
          const chosen = new Set(s.indices);
          const theirs = theirSet(s.name)?.filter((i) => !chosen.has(i)) ?? null;
          s.nominees = decide(g.map(Math.abs), s.due, (i) => !chosen.has(i), theirs);
          s.nomineeGrad = s.nominees.map(() => 0);
        }
        s.nominees.forEach((i, j) => (s.nomineeGrad[j] += g[i]));
      }
      s.indices.forEach((i, j) => (s.grad[j] += g[i]));
    }
    for (const d of dense) {
      const g = G[d.name];
      if (!g) continue;
      d.grad = d.grad ? d.grad.map((x, i) => x + g[i]) : Float64Array.from(g);
    }
  };

  const swap = (s: SparseState) => {
    const k = s.k;
    const r = s.due;
    const idx = s.indices as number[];
    const theirs = theirSet(s.name);
    const keep = decide(s.delta.map(Math.abs), k - r, () => true, theirs ? idx.flatMap((i, j) => (theirs.includes(i) ? [j] : [])) : null);
    for (let j = 0; j < k; j++) if (!keep.includes(j)) w[s.name][idx[j]] = s.base[j];
    const nominees = s.nominees as number[];
    const take = <T>(a: T[], fresh: (j: number) => T) => [...keep.map((j) => a[j]), ...nominees.map((_, j) => fresh(j))];
    s.indices = take(idx, (j) => nominees[j]);
    s.base = take(s.base, (j) => w[s.name][nominees[j]]);
    s.delta = take(s.delta, () => 0);
    s.m = take(s.m, () => 0);
    s.v = take(s.v, () => 0);
    s.steps = take(s.steps, () => 0);
    s.grad = take(s.grad, (j) => s.nomineeGrad[j]);
    s.due = 0;
    s.nominees = null;
    s.nomineeGrad = [];
  };

  // PyTorch's AdamW on one value: decoupled decay, then the bias-corrected step.
  const [b1, b2] = o.betas;
  const adamw = (p: number, g: number, m: number, v: number, t: number, lr: number, wd: number): [number, number, number] => {
    const m2 = b1 * m + (1 - b1) * g;
    const v2 = b2 * v + (1 - b2) * g * g;
    const mHat = m2 / (1 - b1 ** t);
    const vHat = v2 / (1 - b2 ** t);
    return [p * (1 - lr * wd) - (lr * mHat) / (Math.sqrt(vHat) + o.eps), m2, v2];
  };

  for (const micro of steps) {
    for (const batch of micro) pass(gradient(w, batch));
    const ready = sparse.filter((s) => s.indices && s.received);
    for (const s of ready) if (s.due > 0 && s.nominees) swap(s);
    let coef = 1;
    if (o.maxGradNorm !== undefined) {
      let sq = 0;
      for (const s of ready) for (const g of s.grad) sq += g * g;
      for (const d of dense) for (const g of d.grad ?? []) sq += g * g;
      coef = Math.min(1, o.maxGradNorm / (Math.sqrt(sq) + 1e-6));
    }
    const factor = o.schedule ? o.schedule(step) : 1;
    for (const s of ready) {
      const h = hyper(s.name, true);
      const idx = s.indices as number[];
      idx.forEach((i, j) => {
        s.steps[j]++;
        [s.delta[j], s.m[j], s.v[j]] = adamw(s.delta[j], s.grad[j] * coef, s.m[j], s.v[j], s.steps[j], h.lr * factor, h.weightDecay);
        w[s.name][i] = s.base[j] + s.delta[j];
      });
    }
    for (const d of dense) {
      if (!d.grad) continue;
      const h = hyper(d.name, false);
      d.step++;
      const p = w[d.name];
      for (let i = 0; i < p.length; i++) [p[i], d.m[i], d.v[i]] = adamw(p[i], d.grad[i] * coef, d.m[i], d.v[i], d.step, h.lr * factor, h.weightDecay);
    }
    step++;
    if (o.reselect && step % o.reselect.every === 0) {
      for (const s of sparse) if (s.indices) s.due = Math.max(0, Math.min(Math.round(o.reselect.fraction * s.k), s.k - 1, s.n - s.k));
    }
    // zeroGrad: the applied gradients go; a choice in progress and nominees stay (not applied yet).
    for (const s of sparse) {
      if (s.indices) s.grad = s.grad.map(() => 0);
      s.received = false;
    }
    for (const d of dense) d.grad = null;
  }

  const out: Record<string, OracleSparse> = {};
  for (const s of sparse) out[s.name] = { indices: s.indices, delta: s.delta, m: s.m, v: s.v, steps: s.steps };
  return { weights: w, sparse: out, followed };
}
