import { type DType, isFloat } from './dtype.js';
import { DTypeError } from './errors.js';

/**
 * The dtype float tensors are created in when no dtype is named (torch.get_default_dtype / set_default_dtype):
 * `zeros`, `ones`, `full`, `empty`, `eye`, `rand`, `randn`, a fractional `arange`, and `tensor` of plain numbers.
 * float32 unless set. Loading a model in a chosen dtype sets it while the model is built, so its parameters are
 * made in that dtype and never exist in float32 (transformers' `from_pretrained(torch_dtype=…)` does the same).
 */
let current: DType = 'float32';

export function getDefaultDtype(): DType {
  return current;
}

/** Sets the default float dtype; returns the previous one, to restore. */
export function setDefaultDtype(dtype: DType): DType {
  if (!isFloat(dtype)) throw new DTypeError(`setDefaultDtype: the default must be a float dtype, got '${String(dtype)}'`);
  const previous = current;
  current = dtype;
  return previous;
}

/** Runs `fn` with `dtype` as the default float dtype, restoring the previous default after (also when it throws). */
export function withDefaultDtype<T>(dtype: DType, fn: () => T): T {
  const previous = setDefaultDtype(dtype);
  try {
    return fn();
  } finally {
    setDefaultDtype(previous);
  }
}
