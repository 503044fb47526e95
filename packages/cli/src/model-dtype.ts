import { type DType, getBackend, supportsDtype } from '@siftjs/tensor';
import { UsageError } from './errors.js';

/** What `--dtype` accepts: the dtypes a model's weights may be stored in. */
export const MODEL_DTYPES = ['float32', 'float16', 'bfloat16'] as const;

export type ModelDtype = (typeof MODEL_DTYPES)[number];

/** The dtype to build a model in, or undefined for the default (float32: nothing to change). */
export function storedDtype(dtype: ModelDtype | undefined): DType | undefined {
  return dtype === undefined || dtype === 'float32' ? undefined : dtype;
}

/** Refuses a half `--dtype` on a backend that does not store half tensors yet (one line, exit 2). */
export function checkDtypeOnBackend(dtype: ModelDtype | undefined): void {
  const d = storedDtype(dtype);
  if (d && !supportsDtype(d)) throw new UsageError(`--dtype ${d}: the ${getBackend().name} backend does not store ${d} tensors yet; use --dtype float32 there`);
}
