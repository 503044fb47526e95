import { type Ref, axis, ravel, size, unravel } from './core.js';

/** Applies `f` to every 1-D lane of x along `ax` (softmax and friends). */
function lanes(x: Ref, ax: number, f: (lane: number[]) => number[]): Ref {
  const a = axis(ax, x.shape.length);
  const out = new Float64Array(x.data.length);
  const outer = x.shape.map((d, i) => (i === a ? 1 : d));
  for (let o = 0; o < size(outer); o++) {
    const base = unravel(o, outer);
    const positions = Array.from({ length: x.shape[a] }, (_, j) => {
      const idx = [...base];
      idx[a] = j;
      return ravel(idx, x.shape);
    });
    const res = f(positions.map((p) => x.data[p]));
    positions.forEach((p, j) => (out[p] = res[j]));
  }
  return { shape: [...x.shape], data: out };
}

export function softmax(x: Ref, ax: number): Ref {
  return lanes(x, ax, (v) => {
    const m = Math.max(...v);
    const e = v.map((t) => Math.exp(t - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((t) => t / s);
  });
}

export function logSoftmax(x: Ref, ax: number): Ref {
  return lanes(x, ax, (v) => {
    const m = Math.max(...v);
    const lse = m + Math.log(v.reduce((a, t) => a + Math.exp(t - m), 0));
    return v.map((t) => t - lse);
  });
}

/** Normalises each group of the trailing `dims` dims: (x − mean)/√(var + eps)·w + b, biased variance. */
export function layerNorm(x: Ref, dims: number, weight?: Ref, bias?: Ref, eps = 1e-5): Ref {
  const n = size(x.shape.slice(x.shape.length - dims));
  const out = new Float64Array(x.data.length);
  for (let g = 0; g * n < x.data.length; g++) {
    const v = Array.from(x.data.subarray(g * n, (g + 1) * n));
    const mean = v.reduce((a, b) => a + b, 0) / n;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    v.forEach((t, j) => {
      let y = (t - mean) / Math.sqrt(variance + eps);
      if (weight) y *= weight.data[j];
      if (bias) y += bias.data[j];
      out[g * n + j] = y;
    });
  }
  return { shape: [...x.shape], data: out };
}

/** x / √(mean(x²) + eps) · w over the last dim. */
export function rmsNorm(x: Ref, weight?: Ref, eps = 1e-6): Ref {
  const n = x.shape[x.shape.length - 1];
  const out = new Float64Array(x.data.length);
  for (let g = 0; g * n < x.data.length; g++) {
    const v = Array.from(x.data.subarray(g * n, (g + 1) * n));
    const rms = Math.sqrt(v.reduce((a, b) => a + b * b, 0) / n + eps);
    v.forEach((t, j) => (out[g * n + j] = (t / rms) * (weight ? weight.data[j] : 1)));
  }
  return { shape: [...x.shape], data: out };
}

export function embedding(table: Ref, ids: Ref | number[]): Ref {
  const idShape = Array.isArray(ids) ? [ids.length] : ids.shape;
  const list = Array.isArray(ids) ? ids : Array.from(ids.data);
  const d = table.shape[1];
  const out = new Float64Array(list.length * d);
  list.forEach((id, i) => {
    for (let j = 0; j < d; j++) out[i * d + j] = table.data[id * d + j];
  });
  return { shape: [...idShape, d], data: out };
}

export interface CrossEntropyOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * PyTorch's cross_entropy on [N, C] logits: per row −(1−ε)·log p[t] − (ε/C)·Σ_c log p[c]; ignored rows give 0
 * and are left out of the mean.
 */
export function crossEntropy(logits: Ref, targets: number[], opts: CrossEntropyOptions = {}): Ref {
  const { ignoreIndex = -100, labelSmoothing: eps = 0, reduction = 'mean' } = opts;
  const [n, c] = logits.shape;
  const logp = logSoftmax(logits, 1);
  const rows: number[] = [];
  let counted = 0;
  for (let i = 0; i < n; i++) {
    if (targets[i] === ignoreIndex) {
      rows.push(0);
      continue;
    }
    counted++;
    let all = 0;
    for (let j = 0; j < c; j++) all += logp.data[i * c + j];
    rows.push(-(1 - eps) * logp.data[i * c + targets[i]] - (eps / c) * all);
  }
  if (reduction === 'none') return { shape: [n], data: Float64Array.from(rows) };
  const total = rows.reduce((a, b) => a + b, 0);
  return { shape: [], data: Float64Array.of(reduction === 'sum' ? total : total / counted) };
}
