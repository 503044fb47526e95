/**
 * The float64 oracle for the SIFT tests: a two-layer network's forward and gradient written out by hand, and SIFT
 * as the paper defines it (top-k selection, AdamW on the chosen components, dense AdamW on the head) over plain
 * arrays. It imports nothing from the packages.
 *
 * The network: y = B·tanh(A·x) + c, loss = Σ y² over the batch; A [4×5] and B [3×4] sparse, c [3] dense.
 */
export interface NetWeights {
  a: Float64Array; // [4, 5] row-major (out × in, as Linear stores it)
  b: Float64Array; // [3, 4]
  c: Float64Array; // [3]
}

export const SHAPES = { a: [4, 5], b: [3, 4], c: [3] } as const;

export function netGrads(w: NetWeights, rows: number[][]): NetWeights {
  const g: NetWeights = { a: new Float64Array(20), b: new Float64Array(12), c: new Float64Array(3) };
  for (const x of rows) {
    const h = Array.from({ length: 4 }, (_, i) => Math.tanh(x.reduce((s, xj, j) => s + w.a[i * 5 + j] * xj, 0)));
    const y = Array.from({ length: 3 }, (_, i) => w.c[i] + h.reduce((s, hj, j) => s + w.b[i * 4 + j] * hj, 0));
    const dy = y.map((v) => 2 * v);
    for (let i = 0; i < 3; i++) {
      g.c[i] += dy[i];
      for (let j = 0; j < 4; j++) g.b[i * 4 + j] += dy[i] * h[j];
    }
    for (let i = 0; i < 4; i++) {
      const dpre = (1 - h[i] * h[i]) * dy.reduce((s, d, r) => s + d * w.b[r * 4 + i], 0);
      for (let j = 0; j < 5; j++) g.a[i * 5 + j] += dpre * x[j];
    }
  }
  return g;
}

/** The k indices of largest |score| (ties: lowest index), ascending — by sorting, the obvious way. */
export function topkBySort(score: ArrayLike<number>, k: number): number[] {
  const order = Array.from({ length: score.length }, (_, i) => i);
  const mag = (i: number) => (Number.isNaN(score[i]) ? Infinity : Math.abs(score[i]));
  order.sort((i, j) => mag(j) - mag(i) || i - j);
  return order.slice(0, k).sort((i, j) => i - j);
}

export type RefSelection = 'first-batch' | { accumulate: number } | { fisher: number };

export interface RefOptions {
  density: number;
  selection: RefSelection;
  lr: (step: number) => number; // learning rate of step t (1-based)
  betas: [number, number];
  eps: number;
  weightDecay: number;
  maxGradNorm?: number;
}

/** A run of `steps`, each step a list of micro-batches (one backward each), then clip, AdamW, zero. */
export function referenceSift(w0: NetWeights, steps: number[][][][], o: RefOptions) {
  const w: NetWeights = { a: Float64Array.from(w0.a), b: Float64Array.from(w0.b), c: Float64Array.from(w0.c) };
  const passesNeeded = o.selection === 'first-batch' ? 1 : 'accumulate' in o.selection ? o.selection.accumulate : o.selection.fisher;
  const fisher = typeof o.selection === 'object' && 'fisher' in o.selection;
  const sp = (['a', 'b'] as const).map((key) => ({
    key,
    k: Math.max(1, Math.ceil(o.density * w[key].length)),
    idx: null as number[] | null,
    score: new Float64Array(w[key].length),
    pending: new Float64Array(w[key].length),
    passes: 0,
    grad: [] as number[],
    m: [] as number[],
    v: [] as number[],
    t: 0,
  }));
  const dense = { m: new Float64Array(3), v: new Float64Array(3), t: 0 };
  steps.forEach((micro, s) => {
    let gc = new Float64Array(3);
    for (const rows of micro) {
      const g = netGrads(w, rows);
      gc = gc.map((v, i) => v + g.c[i]);
      for (const p of sp) {
        const G = g[p.key];
        if (!p.idx) {
          p.passes++;
          G.forEach((v, i) => {
            p.score[i] += fisher ? v * v : v;
            p.pending[i] += v;
          });
          if (p.passes === passesNeeded) {
            p.idx = topkBySort(passesNeeded === 1 ? G : p.score, p.k);
            p.grad = p.idx.map((i) => p.pending[i]);
            p.m = p.idx.map(() => 0);
            p.v = p.idx.map(() => 0);
          }
        } else p.idx.forEach((i, j) => (p.grad[j] += G[i]));
      }
    }
    const lr = o.lr(s + 1);
    const applied = [...sp.filter((p) => p.idx).flatMap((p) => p.grad), ...gc];
    let coef = 1;
    if (o.maxGradNorm !== undefined) coef = Math.min(1, o.maxGradNorm / (Math.sqrt(applied.reduce((t, v) => t + v * v, 0)) + 1e-6));
    const adam = (wv: number, g: number, m: number, v: number, t: number): [number, number, number] => {
      const [b1, b2] = o.betas;
      const m2 = b1 * m + (1 - b1) * g;
      const v2 = b2 * v + (1 - b2) * g * g;
      const next = wv * (1 - lr * o.weightDecay) - ((lr / (1 - b1 ** t)) * m2) / (Math.sqrt(v2) / Math.sqrt(1 - b2 ** t) + o.eps);
      return [next, m2, v2];
    };
    for (const p of sp) {
      if (!p.idx) continue;
      p.t++;
      p.idx.forEach((i, j) => {
        [w[p.key][i], p.m[j], p.v[j]] = adam(w[p.key][i], p.grad[j] * coef, p.m[j], p.v[j], p.t);
      });
      p.grad = p.grad.map(() => 0);
      p.pending.fill(0);
    }
    dense.t++;
    for (let i = 0; i < 3; i++) [w.c[i], dense.m[i], dense.v[i]] = adam(w.c[i], gc[i] * coef, dense.m[i], dense.v[i], dense.t);
    for (const p of sp) if (!p.idx) p.pending.fill(0);
  });
  return { w, idx: { a: sp[0].idx, b: sp[1].idx } };
}

/** A small deterministic generator for test data (not the library's). */
export function lcg(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

export function randomRows(next: () => number, n: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: 5 }, () => 2 * next()));
}

/** Dense AdamW (PyTorch's update) on the listed tensors of the network, the others frozen; one batch per step. */
export function referenceDense(w0: NetWeights, steps: number[][][], train: readonly (keyof NetWeights)[], o: Omit<RefOptions, 'density' | 'selection'>) {
  const w: NetWeights = { a: Float64Array.from(w0.a), b: Float64Array.from(w0.b), c: Float64Array.from(w0.c) };
  const m = { a: new Float64Array(20), b: new Float64Array(12), c: new Float64Array(3) };
  const v = { a: new Float64Array(20), b: new Float64Array(12), c: new Float64Array(3) };
  steps.forEach((rows, s) => {
    const g = netGrads(w, rows);
    const t = s + 1;
    const lr = o.lr(t);
    const norm = Math.sqrt(train.reduce((acc, key) => acc + g[key].reduce((q, x) => q + x * x, 0), 0));
    const coef = o.maxGradNorm === undefined ? 1 : Math.min(1, o.maxGradNorm / (norm + 1e-6));
    const [b1, b2] = o.betas;
    for (const key of train) {
      for (let i = 0; i < w[key].length; i++) {
        const gi = g[key][i] * coef;
        m[key][i] = b1 * m[key][i] + (1 - b1) * gi;
        v[key][i] = b2 * v[key][i] + (1 - b2) * gi * gi;
        w[key][i] = w[key][i] * (1 - lr * o.weightDecay) - ((lr / (1 - b1 ** t)) * m[key][i]) / (Math.sqrt(v[key][i]) / Math.sqrt(1 - b2 ** t) + o.eps);
      }
    }
  });
  return w;
}

/** The share of Σg² held by the ⌈x·n⌉ largest |g|, by sorting. */
export function referenceShare(g: ArrayLike<number>, x: number): number {
  const sq = Array.from(g, (v) => v * v).sort((p, q) => q - p);
  const total = sq.reduce((s, v) => s + v, 0);
  const k = Math.ceil(x * sq.length);
  return total > 0 ? sq.slice(0, k).reduce((s, v) => s + v, 0) / total : 0;
}
