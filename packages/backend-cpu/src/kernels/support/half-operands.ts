import { type DType, DTypeError, type HalfDType, type View, isHalf } from '@siftjs/tensor';
import type { CpuContext } from '../../runtime/context.js';
import { CpuStorage } from '../../runtime/storage.js';
import { narrowRun, narrowStorage, widenStorage, widenView } from './half.js';

/**
 * How every CPU kernel without a half path of its own takes float16 / bfloat16 operands, in one place: the values
 * widen to float32, the float32 kernel computes as it does for float32 tensors, and each float32 storage it returns
 * is rounded to nearest even into the operands' half dtype — but the result fields its policy keeps float32
 * (`keepFloat32`: a norm's statistics). Operands are the kernel's arguments: views, raw storages (an optimizer's
 * buffers, a norm's statistics; also inside a plain-object argument; float32 ones are taken as they are) and dtype
 * names (`random`'s).
 * Storages the kernel writes in place (`inPlace`, argument positions) are rounded back into the half originals.
 * Results that are not float32 (indices, masks) are returned as they are. The float32 copies are heap storages,
 * counted in memoryStats' peak while they live, and freed before the kernel returns.
 *
 * Kernels that move half data without arithmetic (copy, copyInto, cast, where, the gathers, scatterFlat, fill) and
 * matmul (whose half weight stays a float32 product's operand) handle half dtypes themselves.
 */
// `any`: the wrapper takes every kernel signature and gives it back unchanged
type Kernel = (cpu: CpuContext, ...args: any[]) => any;

export interface HalfPolicy {
  /** Positions (after the context) of raw storages the kernel updates in place. */
  inPlace?: readonly number[];
  /**
   * Fields of the kernel's result object that stay float32 for half operands: a norm's statistics (`mean`, `rstd`),
   * which the contract keeps in `opmathDtype` (float32) so the backward's x̂ = (x − μ)·rstd is not moved by a μ
   * rounded to 8 or 11 bits. Float32 storages among the operands (those statistics, handed back to the backward)
   * are taken as they are, whatever the policy.
   */
  keepFloat32?: readonly string[];
}

export function halfOperands<K extends Kernel>(kernel: K, policy: HalfPolicy = {}): K {
  const name = kernel.name;
  const wrapped = (cpu: CpuContext, ...args: unknown[]): unknown => {
    const half = halfDtypeOf(name, args);
    if (!half) return kernel(cpu, ...args);
    const widened = new Map<CpuStorage, CpuStorage>(); // half original → float32 copy
    const transient: CpuStorage[] = [];
    const convert = (a: unknown): unknown => {
      if (isHalfName(a)) return 'float32';
      if (a instanceof CpuStorage) {
        if (!isHalf(a.dtype)) return a;
        let w = widened.get(a);
        if (!w) widened.set(a, (w = widenStorage(cpu, a)));
        return w;
      }
      if (isView(a)) {
        if (!isHalf(a.dtype)) return a;
        const v = widenView(cpu, a);
        transient.push(v.storage as CpuStorage);
        return v;
      }
      if (isPlainObject(a)) return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, convert(v)]));
      return a;
    };
    try {
      const result = kernel(cpu, ...args.map(convert));
      for (const i of policy.inPlace ?? []) {
        const original = args[i] as CpuStorage;
        const w = widened.get(original);
        if (w) narrowRun(cpu, cpu.array(w) as Float32Array, cpu.array(original) as Uint16Array, original.dtype as HalfDType);
      }
      return narrowResult(cpu, result, half, policy.keepFloat32 ?? []);
    } finally {
      for (const s of [...widened.values(), ...transient]) cpu.free(s);
    }
  };
  Object.defineProperty(wrapped, 'name', { value: name });
  return wrapped as K;
}

/** The one half dtype among the operands, or null; float16 with bfloat16 is refused (the ops promote them first). */
function halfDtypeOf(kernel: string, args: readonly unknown[]): HalfDType | null {
  let found: HalfDType | null = null;
  const see = (d: DType) => {
    if (!isHalf(d)) return;
    if (found && found !== d) throw new DTypeError(`CPU ${kernel}: float16 and bfloat16 operands in one kernel; cast one of them first`);
    found = d;
  };
  const visit = (a: unknown, nested: boolean): void => {
    if (isHalfName(a)) see(a);
    else if (a instanceof CpuStorage || isView(a)) see(a.dtype);
    else if (!nested && isPlainObject(a)) for (const v of Object.values(a)) visit(v, true);
  };
  for (const a of args) visit(a, false);
  return found;
}

/** Each float32 storage of the result rounded into `half`, but the result object's fields named in `keep`. */
function narrowResult(cpu: CpuContext, r: unknown, half: HalfDType, keep: readonly string[]): unknown {
  if (r instanceof CpuStorage) return r.dtype === 'float32' ? narrowStorage(cpu, r, half) : r;
  if (isPlainObject(r)) return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, keep.includes(k) ? v : narrowResult(cpu, v, half, [])]));
  return r;
}

const isHalfName = (a: unknown): a is HalfDType => a === 'float16' || a === 'bfloat16';

function isView(a: unknown): a is View {
  return typeof a === 'object' && a !== null && 'storage' in a && 'strides' in a && 'dtype' in a;
}

function isPlainObject(a: unknown): a is Record<string, unknown> {
  return typeof a === 'object' && a !== null && Object.getPrototypeOf(a) === Object.prototype && !isView(a);
}
