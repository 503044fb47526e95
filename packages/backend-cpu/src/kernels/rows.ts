import type { TypedArray } from '@siftjs/tensor';

/** Fused row kernels over contiguous [rows, cols] data: softmax, layer norm, RMS norm, forward and backward. */

export function softmaxRows(x: TypedArray, out: TypedArray, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[o + j] > max || x[o + j] !== x[o + j]) max = x[o + j];
    if (max === -Infinity) max = 0; // a row of -inf: exp gives zeros, sum 0, result NaN as in torch
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[o + j] - max);
    if (log) {
      const lse = max + Math.log(sum);
      for (let j = 0; j < cols; j++) out[o + j] = x[o + j] - lse;
    } else {
      const inv = 1 / sum;
      for (let j = 0; j < cols; j++) out[o + j] = Math.exp(x[o + j] - max) * inv;
    }
  }
}

/** softmax: dx = y(dy − Σ dy·y); log-softmax: dx = dy − e^y Σ dy. */
export function softmaxRowsBackward(y: TypedArray, dy: TypedArray, dx: TypedArray, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    if (log) {
      for (let j = 0; j < cols; j++) s += dy[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] = dy[o + j] - Math.exp(y[o + j]) * s;
    } else {
      for (let j = 0; j < cols; j++) s += dy[o + j] * y[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] = y[o + j] * (dy[o + j] - s);
    }
  }
}

export interface NormArrays {
  x: TypedArray;
  w: TypedArray | null;
  b: TypedArray | null;
  y: TypedArray;
  mean: TypedArray | null;
  rstd: TypedArray;
}

/** y = (x − μ)·rstd·w + b with the biased variance (two passes, in float64). `mean` null: RMS norm (μ = 0). */
export function normRows(a: NormArrays, rows: number, cols: number, eps: number): void {
  const { x, w, b, y, mean, rstd } = a;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let mu = 0;
    if (mean) {
      for (let j = 0; j < cols; j++) mu += x[o + j];
      mu /= cols;
    }
    let ss = 0;
    for (let j = 0; j < cols; j++) {
      const d = x[o + j] - mu;
      ss += d * d;
    }
    const rs = 1 / Math.sqrt(ss / cols + eps);
    if (mean) mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) {
      let v = (x[o + j] - mu) * rs;
      if (w) v *= w[j];
      if (b) v += b[j];
      y[o + j] = v;
    }
  }
}

export interface NormGradArrays {
  dy: TypedArray;
  x: TypedArray;
  w: TypedArray | null;
  mean: TypedArray | null;
  rstd: TypedArray;
  /** null: the input's gradient is not wanted (only dw / db are summed). */
  dx: TypedArray | null;
  dw: Float64Array | null;
  db: Float64Array | null;
}

/**
 * With x̂ = (x − μ)·rstd and g = dy·w:
 *   layer norm: dx = rstd·(g − mean(g) − x̂·mean(g·x̂));   RMS norm: dx = rstd·(g − x̂·mean(g·x̂))
 *   dw = Σ_rows dy·x̂,  db = Σ_rows dy   (accumulated in float64)
 */
export function normRowsBackward(a: NormGradArrays, rows: number, cols: number): void {
  const { dy, x, w, mean, rstd, dx, dw, db } = a;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const mu = mean ? mean[r] : 0;
    const rs = rstd[r];
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < cols; j++) {
      const xh = (x[o + j] - mu) * rs;
      const g = w ? dy[o + j] * w[j] : dy[o + j];
      sumG += g;
      sumGX += g * xh;
      if (dw) dw[j] += dy[o + j] * xh;
      if (db) db[j] += dy[o + j];
    }
    if (!dx) continue;
    const mg = mean ? sumG / cols : 0;
    const mgx = sumGX / cols;
    for (let j = 0; j < cols; j++) {
      const xh = (x[o + j] - mu) * rs;
      const g = w ? dy[o + j] * w[j] : dy[o + j];
      dx[o + j] = rs * (g - mg - xh * mgx);
    }
  }
}
