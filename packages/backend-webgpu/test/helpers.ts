/**
 * One WebGPU backend per test file, on whatever adapter this machine has. Without one the GPU tests skip and
 * say why — except under CI=true, where adapter.test.ts fails instead.
 */
import type { DType, TypedArray, View } from '@siftjs/tensor';
import { acquireDevice, describeAdapter, WebGpuBackend, type WebGpuBackendSettings } from '../src/index.js';

export interface Acquired {
  backend: WebGpuBackend | null;
  reason: string;
}

export async function acquire(): Promise<Acquired> {
  try {
    const ctx = await acquireDevice();
    return { backend: new WebGpuBackend(ctx), reason: describeAdapter(ctx.adapter) };
  } catch (e) {
    const reason = (e as Error).message;
    console.log(`[webgpu tests] skipped: ${reason}`);
    return { backend: null, reason };
  }
}

/**
 * A second backend on its own device with the feature level's default limits (smaller workgroups and workgroup
 * memory than the adapter's), sizing its kernels for only four storage buffers per shader stage (tighter than any
 * device here: the point is to run the packed and split paths a tighter device would take).
 */
export async function acquireNarrow(settings: WebGpuBackendSettings = {}): Promise<WebGpuBackend | null> {
  try {
    const ctx = await acquireDevice({ limits: 'default' });
    return new WebGpuBackend({ ...ctx, limits: { ...ctx.limits, maxStorageBuffersPerShaderStage: 4 } }, settings);
  } catch {
    return null;
  }
}

export const ci = process.env.CI === 'true';

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function view(storage: object, dtype: DType, shape: readonly number[], st?: readonly number[], offset = 0): View {
  return { storage, dtype, shape, strides: st ?? strides(shape), offset };
}

/** The element at a coordinate of a strided view over `data`. */
export function at(data: ArrayLike<number>, v: Pick<View, 'strides' | 'offset'>, coord: readonly number[]): number {
  let o = v.offset;
  for (let i = 0; i < coord.length; i++) o += coord[i] * v.strides[i];
  return data[o];
}

/** Every coordinate of a shape in row-major order. */
export function* coords(shape: readonly number[]): Generator<number[]> {
  const n = size(shape);
  const c = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    yield c.slice();
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++c[d] < shape[d]) break;
      c[d] = 0;
    }
  }
}

/** Deterministic float32 data in [lo, hi). */
export function randomData(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  }
  return out;
}

/**
 * A strided view of `shape` over a fresh buffer: dims permuted in memory (a transpose), some dims broadcast
 * (stride 0), and a leading offset — all chosen from `seed`.
 */
export function layout(shape: readonly number[], seed: number, opts: { broadcast?: boolean } = {}): { strides: number[]; offset: number; length: number } {
  const rank = shape.length;
  const order = [...Array(rank).keys()];
  let s = seed;
  for (let i = rank - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const st = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let k = rank - 1; k >= 0; k--) {
    const d = order[k];
    s = (s * 1103515245 + 12345) >>> 0;
    if (opts.broadcast && s % 5 === 0) {
      st[d] = 0;
      continue;
    }
    st[d] = acc;
    acc *= shape[d];
  }
  const offset = (s >>> 8) % 7;
  return { strides: st, offset, length: offset + acc };
}

/** |a − b| ≤ atol + rtol·|b| elementwise; the message names the first miss. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length}, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i], want[i]];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (w === g) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      throw new Error(`${what}: element ${i} is ${g}, expected ${w} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

export type { TypedArray };
