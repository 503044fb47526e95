import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { where } from './compare.js';
import { fromStorage } from './util.js';

/** A bool [rows, cols] mask: true where (col − row) ≤ k (lower) or ≥ k (upper). */
function triangleMask(x: Tensor, k: number, lower: boolean): Tensor {
  const [rows, cols] = x.shape.slice(-2);
  const data = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) data[i * cols + j] = (lower ? j - i <= k : j - i >= k) ? 1 : 0;
  }
  const b = x.backend;
  return fromStorage(b, b.upload('bool', data), 'bool', [rows, cols]);
}

function triangle(x: Tensor, k: number, lower: boolean): Tensor {
  const op = lower ? 'tril' : 'triu';
  if (x.rank < 2) throw new ShapeError(`${op}: needs at least 2 dims, got ${fmtShape(x.shape)}`);
  if (!Number.isInteger(k)) throw new ShapeError(`${op}: diagonal k must be an integer, got ${k}`);
  const mask = triangleMask(x, k, lower);
  const out = where(mask, x, 0);
  mask.dispose();
  return out;
}

/** Keeps elements on and below the k-th diagonal of the last two dims (batched); the gradient is masked alike. */
export function tril(x: Tensor, k = 0): Tensor {
  return triangle(x, k, true);
}

/** Keeps elements on and above the k-th diagonal of the last two dims. */
export function triu(x: Tensor, k = 0): Tensor {
  return triangle(x, k, false);
}
