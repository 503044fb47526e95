import type { DType } from '../dtype.js';
import { DTypeError } from '../errors.js';
import type { Backend } from './backend.js';
import { getBackend } from './registry.js';

const known = new WeakMap<Backend, Map<DType, boolean>>();

/**
 * Whether `backend` can hold tensors of `dtype` (WebGPU has no float64). The Backend contract has no dtype list,
 * so each backend is asked once per dtype, by a one-element allocation: a backend refuses a dtype it lacks with
 * a DTypeError there. The answer is kept, so this is free after the first call.
 */
export function supportsDtype(dtype: DType, backend: Backend = getBackend()): boolean {
  let m = known.get(backend);
  if (!m) known.set(backend, (m = new Map()));
  let ok = m.get(dtype);
  if (ok === undefined) {
    try {
      backend.free(backend.alloc(dtype, 1));
      ok = true;
    } catch (e) {
      if (!(e instanceof DTypeError)) throw e;
      ok = false;
    }
    m.set(dtype, ok);
  }
  return ok;
}

/**
 * The widest float `backend` has: float64 on the CPU, float32 on WebGPU. For sums and draws that use the extra
 * precision where it exists, and still run where it does not.
 */
export function widestFloat(backend: Backend = getBackend()): 'float64' | 'float32' {
  return supportsDtype('float64', backend) ? 'float64' : 'float32';
}
