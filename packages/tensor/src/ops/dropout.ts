import type { Tensor } from '../tensor.js';
import { alias } from './views.js';
import { randLike } from './random.js';
import { requireFloat } from './util.js';

/**
 * Inverted dropout: zero each element with probability p and scale the rest by 1/(1 − p). The keep mask is
 * `u ≥ p` for Philox uniforms u, so a seed gives the same mask on every backend. Identity when not training.
 */
export function dropout(x: Tensor, p: number, training = true): Tensor {
  requireFloat('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return alias(x);
  if (p === 1) return x.mul(0);
  const u = randLike(x, x.dtype === 'float64' ? 'float64' : 'float32');
  const keepMask = u.ge(p);
  const scale = keepMask.cast(x.dtype).mul(1 / (1 - p));
  const out = x.mul(scale);
  for (const t of [u, keepMask, scale]) t.dispose();
  return out;
}
