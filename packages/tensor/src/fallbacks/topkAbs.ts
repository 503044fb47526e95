import { widestFloat } from '../backend/capabilities.js';
import { BackendError, fmtShape } from '../errors.js';
import { selectTopkAbs } from '../host/select-topk-abs.js';
import { fromStorage } from '../ops/util.js';
import type { Tensor } from '../tensor.js';

/**
 * The reference for Backend.topkAbs: x read back synchronously (in the widest float, so the magnitudes are exact),
 * the k selected on the host by `selectTopkAbs` (ties to the lower index), the values gathered on the device.
 * SIFT selects once per run, so the read is off the training step's path. A backend without synchronous reads
 * has to bring its own topkAbs kernel (WebGPU's is a radix select on the device).
 */
export function topkAbs(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const b = x.backend;
  if (!b.readSync) {
    throw new BackendError(
      `topkAbs of ${fmtShape(x.shape)}: backend '${b.name}' has no topkAbs kernel and no synchronous reads for the host fallback; it must implement topkAbs`,
    );
  }
  const wide = widestFloat(b);
  const copy = b.cast(x.raw(), wide);
  let order: Int32Array;
  try {
    order = selectTopkAbs(b.readSync(copy, wide, x.size), k);
  } finally {
    b.free(copy);
  }
  const indices = fromStorage(b, b.upload('int32', order), 'int32', [k]);
  const values = fromStorage(b, b.gatherFlat(x.raw(), indices.raw()), x.dtype, [k]);
  return { values, indices };
}
