import { record } from '../autograd/record.js';
import { type DType, isDType, isFloat } from '../dtype.js';
import { DTypeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { alias } from './views.js';
import { fromStorage } from './util.js';

/** Converts elements to `dtype` (floats to ints truncate toward zero; to bool, non-zero is true). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (!isDType(dtype)) throw new DTypeError(`cast: unknown dtype '${String(dtype)}'`);
  if (dtype === x.dtype) return alias(x);
  const b = x.backend;
  const out = fromStorage(b, b.cast(x.raw(), dtype), dtype, x.shape);
  if (!isFloat(dtype)) return out; // no gradient through a cast to an integer type
  const from = x.dtype;
  return record('cast', out, [x], (g) => [cast(g, from)]);
}
