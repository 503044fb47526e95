import { bf16ToFloat, floatToBf16, floatToHalf, halfToFloat } from '@siftjs/safetensors';
import { type DType, isFloat, keep, noGrad, scope, stack, type Tensor, zeros } from '@siftjs/tensor';

/** A NaN or an infinity where only finite numbers may be: the message says which tensor holds it, and where. */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
}

/** A float type a file stores: a finite float32 can still overflow to ±Infinity when stored in a narrower one. */
export type StoredFloat = 'F32' | 'F16' | 'BF16';

/** `x` as it reads back after being stored as `type` (rounded to nearest even, as the safetensors writer does). */
export function storedValue(x: number, type: StoredFloat): number {
  if (type === 'F16') return halfToFloat(floatToHalf(x));
  if (type === 'BF16') return bf16ToFloat(floatToBf16(x));
  return Math.fround(x);
}

/** The position of the first NaN or ±Infinity in `values` (as stored in `type`, if given), or -1. */
export function firstNonFinite(values: ArrayLike<number>, type?: StoredFloat): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(type ? storedValue(values[i], type) : values[i])) return i;
  return -1;
}

/** `NaN at [1, 4]`: the value at flat position `at` of a tensor of `shape`, and its index. */
export function describeAt(values: ArrayLike<number>, at: number, shape: readonly number[], type?: StoredFloat): string {
  const index: number[] = [];
  let rest = at;
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  const stored = type ? storedValue(values[at], type) : values[at];
  return `${stored}${Object.is(stored, values[at]) ? '' : ` (${values[at]} stored as ${type})`} at [${index.join(', ')}]`;
}


/**
 * One flag per tensor, computed on the device, in `dtype`: sum(x·0) is 0 when every element of x is finite and
 * NaN when any is NaN or ±Infinity (0·∞ is NaN). Unlike sum(x) it cannot overflow, so a large finite tensor is
 * not taken for a broken one. Reading the flags is one small read for any number of tensors.
 */
export function nonFiniteFlags(tensors: readonly Tensor[], dtype: DType = 'float32'): Tensor {
  return noGrad(() =>
    scope(() => {
      const flags = tensors.map((t) => (isFloat(t.dtype) && t.size > 0 ? t.detach().mul(0).sum().cast(dtype) : zeros([], { dtype })));
      return keep(flags.length ? stack(flags) : zeros([0], { dtype }));
    }),
  );
}

/** The first of `named` that holds a NaN or an infinity, given the flags read back: its name and where, or null. */
export async function locateNonFinite(named: readonly (readonly [string, Tensor])[], flags: ArrayLike<number>): Promise<{ name: string; where: string } | null> {
  for (let i = 0; i < named.length; i++) {
    if (Number.isFinite(flags[i])) continue;
    const [name, t] = named[i];
    // Only on the way to an error: the one offending tensor is read whole, to say where.
    const values = await t.toArray();
    const at = firstNonFinite(values);
    return { name, where: at < 0 ? 'a non-finite value' : describeAt(values, at, t.shape) };
  }
  return null;
}

/** The first of `named` that holds a NaN or an infinity (one device read for all of them), or null. */
export async function findNonFinite(named: readonly (readonly [string, Tensor])[]): Promise<{ name: string; where: string } | null> {
  if (named.length === 0) return null;
  const flags = nonFiniteFlags(named.map(([, t]) => t));
  try {
    return await locateNonFinite(named, await flags.toArray());
  } finally {
    flags.dispose();
  }
}
