import { type Ref, axis, size } from './core.js';

/**
 * Applies `f` to every 1-D lane of x along axis `ax` (all other indices fixed) and writes the results back in
 * place of the lane. For shape [..before, n, ..after], the lane at (outer, inner) is at outer·n·inner' + j·inner'.
 */
function lanes(x: Ref, ax: number, f: (lane: number[]) => number[]): Ref {
  const a = axis(ax, x.shape.length);
  const n = x.shape[a];
  const outer = size(x.shape.slice(0, a));
  const inner = size(x.shape.slice(a + 1));
  const out = new Float64Array(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const lane: number[] = [];
      for (let j = 0; j < n; j++) lane.push(x.data[base + j * inner]);
      const res = f(lane);
      for (let j = 0; j < n; j++) out[base + j * inner] = res[j];
    }
  }
  return { shape: [...x.shape], data: out };
}

function laneMax(v: number[]): number {
  let m = -Infinity;
  for (const t of v) m = Math.max(m, t);
  return m;
}

/** exp(x − max) / Σ exp(x − max) along `ax`. */
export function softmax(x: Ref, ax: number): Ref {
  return lanes(x, ax, (v) => {
    const m = laneMax(v);
    const e = v.map((t) => Math.exp(t - m));
    let s = 0;
    for (const t of e) s += t;
    return e.map((t) => t / s);
  });
}

/** x − (max + log Σ exp(x − max)) along `ax`. */
export function logSoftmax(x: Ref, ax: number): Ref {
  return lanes(x, ax, (v) => {
    const m = laneMax(v);
    let s = 0;
    for (const t of v) s += Math.exp(t - m);
    const lse = m + Math.log(s);
    return v.map((t) => t - lse);
  });
}

/**
 * torch layer_norm over the trailing `normalizedShapeLength` dims: (x − mean)/√(var + eps)·weight + bias with
 * the biased variance (÷N). weight and bias, when given, have the normalized shape (any shape of N elements).
 */
export function layerNorm(x: Ref, normalizedShapeLength: number, weight?: Ref, bias?: Ref, eps = 1e-5): Ref {
  if (!Number.isInteger(normalizedShapeLength) || normalizedShapeLength < 0 || normalizedShapeLength > x.shape.length) {
    throw new Error(`layerNorm: cannot normalise ${normalizedShapeLength} trailing dims of [${x.shape}]`);
  }
  const n = size(x.shape.slice(x.shape.length - normalizedShapeLength));
  if (weight && weight.data.length !== n) throw new Error(`layerNorm: weight has ${weight.data.length} elements, expected ${n}`);
  if (bias && bias.data.length !== n) throw new Error(`layerNorm: bias has ${bias.data.length} elements, expected ${n}`);
  const out = new Float64Array(x.data.length);
  const groups = n === 0 ? 0 : x.data.length / n;
  for (let g = 0; g < groups; g++) {
    const base = g * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += x.data[base + j];
    const mean = s / n;
    let ss = 0;
    for (let j = 0; j < n; j++) ss += (x.data[base + j] - mean) ** 2;
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let j = 0; j < n; j++) {
      let y = (x.data[base + j] - mean) * inv;
      if (weight) y *= weight.data[j];
      if (bias) y += bias.data[j];
      out[base + j] = y;
    }
  }
  return { shape: [...x.shape], data: out };
}

/** x / √(mean(x²) + eps) · weight, over the last dim. */
export function rmsNorm(x: Ref, weight?: Ref, eps = 1e-6): Ref {
  if (x.shape.length === 0) throw new Error('rmsNorm: needs at least one dim');
  const n = x.shape[x.shape.length - 1];
  if (weight && weight.data.length !== n) throw new Error(`rmsNorm: weight has ${weight.data.length} elements, expected ${n}`);
  const out = new Float64Array(x.data.length);
  const groups = n === 0 ? 0 : x.data.length / n;
  for (let g = 0; g < groups; g++) {
    const base = g * n;
    let ss = 0;
    for (let j = 0; j < n; j++) ss += x.data[base + j] * x.data[base + j];
    const rms = Math.sqrt(ss / n + eps);
    for (let j = 0; j < n; j++) out[base + j] = (x.data[base + j] / rms) * (weight ? weight.data[j] : 1);
  }
  return { shape: [...x.shape], data: out };
}

/** Rows of `table` [V, D] picked by `ids` (a list, or a Ref of any shape): result [...ids.shape, D]. */
export function embedding(table: Ref, ids: Ref | readonly number[]): Ref {
  if (table.shape.length !== 2) throw new Error(`embedding: table must be [V, D], got [${table.shape}]`);
  const [v, d] = table.shape;
  const idShape = 'shape' in ids ? ids.shape : [ids.length];
  const list = 'shape' in ids ? Array.from(ids.data) : ids;
  const out = new Float64Array(list.length * d);
  for (let i = 0; i < list.length; i++) {
    const id = list[i];
    if (!Number.isInteger(id) || id < 0 || id >= v) throw new Error(`embedding: id ${id} out of range [0, ${v})`);
    for (let j = 0; j < d; j++) out[i * d + j] = table.data[id * d + j];
  }
  return { shape: [...idShape, d], data: out };
}

export interface CrossEntropyOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * torch.nn.functional.cross_entropy on logits [N, C] with class-index targets [N]. With logp = log_softmax(row):
 *   loss_i = (1 − ε)·(−logp[t_i]) + (ε/C)·Σ_c(−logp[c])      (ε = labelSmoothing)
 * Rows whose target is ignoreIndex give 0 and are left out of the mean's count ('mean' over zero counted rows
 * is NaN, as in torch). 'none' returns [N]; 'mean' and 'sum' return a rank-0 Ref.
 */
export function crossEntropy(logits: Ref, targets: readonly number[] | Ref, opts: CrossEntropyOptions = {}): Ref {
  const { ignoreIndex = -100, labelSmoothing = 0, reduction = 'mean' } = opts;
  if (logits.shape.length !== 2) throw new Error(`crossEntropy: logits must be [N, C], got [${logits.shape}]`);
  const [n, c] = logits.shape;
  const t = 'shape' in targets ? Array.from(targets.data) : targets;
  if (t.length !== n) throw new Error(`crossEntropy: ${t.length} targets for ${n} rows`);
  const logp = logSoftmax(logits, 1);
  const rows = new Float64Array(n);
  let counted = 0;
  for (let i = 0; i < n; i++) {
    if (t[i] === ignoreIndex) continue;
    if (!Number.isInteger(t[i]) || t[i] < 0 || t[i] >= c) throw new Error(`crossEntropy: target ${t[i]} out of range [0, ${c})`);
    counted++;
    let all = 0;
    for (let j = 0; j < c; j++) all += -logp.data[i * c + j];
    const nll = -logp.data[i * c + t[i]];
    rows[i] = labelSmoothing === 0 ? nll : (1 - labelSmoothing) * nll + (labelSmoothing / c) * all;
  }
  if (reduction === 'none') return { shape: [n], data: rows };
  let s = 0;
  for (const r of rows) s += r;
  return { shape: [], data: Float64Array.of(reduction === 'sum' ? s : s / counted) };
}
