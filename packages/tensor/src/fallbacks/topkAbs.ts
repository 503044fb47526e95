import type { Backend } from '../backend/backend.js';
import { isHalf } from '../dtype.js';
import { BackendError, fmtShape } from '../errors.js';
import { halfBitsToFloat32Array } from '../half.js';
import { selectTopkAbs } from '../host/select-topk-abs.js';
import { fromStorage } from '../ops/util.js';
import { collapseDims } from '../shape.js';
import type { Tensor } from '../tensor.js';

/**
 * The reference for Backend.topkAbs: x's storage read back synchronously, its view walked on the host into a flat
 * float64 array (no device memory beyond the k-sized results, as the CPU's kernel), the k selected by
 * `selectTopkAbs` (ties to the lower index), the values gathered on the device. SIFT selects once per run, so
 * the read is off the training step's path. A backend without synchronous reads has to bring its own topkAbs
 * kernel (WebGPU's is a radix select on the device).
 */
export function topkAbs(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const b = x.backend;
  const order = selectTopkAbs(hostValues(b, x), k);
  const indices = fromStorage(b, b.upload('int32', order), 'int32', [k]);
  const values = fromStorage(b, b.gatherFlat(x.raw(), indices.raw()), x.dtype, [k]);
  return { values, indices };
}

/** x's elements in row-major order of its view, read from the device without a copy there. */
function hostValues(b: Backend, x: Tensor): Float64Array {
  if (!b.readSync) {
    throw new BackendError(
      `topkAbs of ${fmtShape(x.shape)}: backend '${b.name}' has no topkAbs kernel and no synchronous reads for the host fallback; it must implement topkAbs`,
    );
  }
  const ref = x.storage();
  const stored = b.readSync(ref.data, x.dtype, ref.size);
  // half dtypes read as their bit patterns: ranked by value
  const data = isHalf(x.dtype) ? halfBitsToFloat32Array(stored as Uint16Array, x.dtype) : stored;
  const out = new Float64Array(x.size);
  if (x.size === 0) return out;
  const { shape, strides } = collapseDims(x.shape, [x.strides]);
  const s = strides[0];
  const at = new Array<number>(shape.length).fill(0);
  let offset = x.offset;
  for (let i = 0; i < out.length; i++) {
    out[i] = data[offset];
    // Odometer over the view's dims, last fastest.
    for (let d = shape.length - 1; d >= 0; d--) {
      offset += s[d];
      if (++at[d] < shape[d]) break;
      offset -= s[d] * shape[d];
      at[d] = 0;
    }
  }
  return out;
}
