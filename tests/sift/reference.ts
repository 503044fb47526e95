/**
 * Float64 references for the SIFT tests, written out by hand and importing nothing from the packages: a two-layer
 * network's gradient (the oracle's gradient function for it, see oracle.ts), top-k by sorting, dense AdamW, the
 * gradient share, and a deterministic generator for test data.
 *
 * The network: y = B·tanh(A·x) + c, loss = Σ y² over the batch; as parameters 'a.weight' [4×5], 'b.weight' [3×4]
 * and 'b.bias' [3].
 */
export interface NetWeights {
  a: Float64Array; // [4, 5] row-major (out × in, as Linear stores it)
  b: Float64Array; // [3, 4]
  c: Float64Array; // [3]
}

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

/** The network's gradient by parameter name, as the oracle takes it. */
export function netGradient(w: Record<string, Float64Array>, rows: number[][]): Record<string, Float64Array> {
  const g = netGrads({ a: w['a.weight'], b: w['b.weight'], c: w['b.bias'] }, rows);
  return { 'a.weight': g.a, 'b.weight': g.b, 'b.bias': g.c };
}

export const NET_SHAPES = { 'a.weight': [4, 5], 'b.weight': [3, 4], 'b.bias': [3] };

/** The k indices of largest |score| by |score| descending, ties to the lowest index (NaN largest) — by sorting. */
export function topkBySort(score: ArrayLike<number>, k: number): number[] {
  const order = Array.from({ length: score.length }, (_, i) => i);
  const mag = (i: number) => (Number.isNaN(score[i]) ? Infinity : Math.abs(score[i]));
  order.sort((i, j) => mag(j) - mag(i) || i - j);
  return order.slice(0, k);
}

export const ascending = (xs: readonly number[]): number[] => [...xs].sort((p, q) => p - q);

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

export interface DenseOptions {
  lr: (step: number) => number; // learning rate of step t (1-based)
  betas: [number, number];
  eps: number;
  weightDecay: number;
  maxGradNorm?: number;
}

/** Dense AdamW (PyTorch's update) on the listed tensors of the network, the others frozen; one batch per step. */
export function referenceDense(w0: NetWeights, steps: number[][][], train: readonly (keyof NetWeights)[], o: DenseOptions) {
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
