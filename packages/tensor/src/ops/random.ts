import { getBackend } from '../backend/registry.js';
import { type DType, isFloat } from '../dtype.js';
import { DTypeError } from '../errors.js';
import { getDefaultDtype } from '../default-dtype.js';
import { scope } from '../memory/scope.js';
import { nextStream } from '../random/generator.js';
import { checkShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { fromStorage } from './util.js';
import { noGrad } from '../autograd/grad-mode.js';

export interface RandomOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

function draw(kind: 'uniform' | 'normal', shape: readonly number[], dtype: DType): Tensor {
  // A half dtype draws the float32 numbers and rounds them to nearest even (the same stream as float32).
  if (!isFloat(dtype)) throw new DTypeError(`${kind === 'uniform' ? 'rand' : 'randn'}: dtype must be a float type, got ${dtype}`);
  const s = checkShape(shape, kind);
  const b = getBackend();
  const { seed, offset } = nextStream();
  return fromStorage(b, b.random(kind, dtype, sizeOf(s), seed, offset), dtype, s);
}

function finish(t: Tensor, opts: RandomOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Uniform in [low, high) (default [0, 1)), from the Philox generator. */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const u = draw('uniform', shape, opts.dtype ?? getDefaultDtype());
  const { low = 0, high = 1 } = opts;
  if (low === 0 && high === 1) return finish(u, opts);
  // Scoped: the scaled draw is an intermediate that would otherwise outlive the call (one leaked tensor per call).
  const out = noGrad(() => scope(() => u.mul(high - low).add(low)));
  u.dispose();
  return finish(out, opts);
}

/** Normal with `mean` and `std` (default 0, 1). */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const z = draw('normal', shape, opts.dtype ?? getDefaultDtype());
  const { mean = 0, std = 1 } = opts;
  if (mean === 0 && std === 1) return finish(z, opts);
  const out = noGrad(() => scope(() => z.mul(std).add(mean)));
  z.dispose();
  return finish(out, opts);
}

/** Uniform numbers on the backend and shape of `x`. */
export function randLike(x: Tensor, dtype: DType = x.dtype): Tensor {
  const b = x.backend;
  const { seed, offset } = nextStream();
  return fromStorage(b, b.random('uniform', dtype, x.size, seed, offset), dtype, x.shape);
}
