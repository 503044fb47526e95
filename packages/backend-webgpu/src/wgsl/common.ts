/**
 * Pieces every kernel template shares: the parameter block (one uniform of 32-bit words, read with constant
 * indices the template bakes in), element types, strided indexing, and the dispatch grid.
 */
import { type CollapsedDims, collapseDims, type DType, DTypeNotImplementedError } from '@siftjs/tensor';

/** How each dtype is stored on the GPU: every element is 32 bits (bool as u32 0/1). */
export type Scalar = 'f32' | 'i32' | 'u32';

/** The WGSL literal zero of an element type. */
export const zeroOf = (t: Scalar): string => (t === 'f32' ? '0.0' : t === 'i32' ? '0' : '0u');

export function scalarOf(dtype: DType): Scalar {
  switch (dtype) {
    case 'float32':
      return 'f32';
    case 'int32':
      return 'i32';
    case 'bool':
      return 'u32';
    case 'float64':
      throw new Error('float64 has no WGSL type');
    case 'float16':
    case 'bfloat16':
      throw new DTypeNotImplementedError('webgpu', dtype, 'kernel');
  }
}

/** The kernel's parameters as 32-bit words, in the order the template reads them. */
export class Params {
  private readonly words: number[] = [];
  private readonly f = new Float32Array(1);
  private readonly u = new Uint32Array(this.f.buffer);

  u32(v: number): this {
    this.words.push(v >>> 0);
    return this;
  }
  i32(v: number): this {
    this.words.push(v | 0);
    return this;
  }
  f32(v: number): this {
    this.f[0] = v;
    this.words.push(this.u[0]);
    return this;
  }
  get length(): number {
    return this.words.length;
  }
  toArray(): Uint32Array {
    return Uint32Array.from(this.words, (w) => w >>> 0);
  }
}

/** The WGSL expression for parameter word `k` as u32 / i32 / f32. */
export const pu = (k: number): string => `P.v[${k >> 2}].${'xyzw'[k & 3]}`;
export const pi = (k: number): string => `bitcast<i32>(${pu(k)})`;
export const pf = (k: number): string => `bitcast<f32>(${pu(k)})`;

/** The parameter uniform for `words` words (binding 0). */
export function paramBlock(words: number): string {
  return `struct Params { v: array<vec4<u32>, ${Math.max(1, Math.ceil(words / 4))}> };
@group(0) @binding(0) var<uniform> P: Params;`;
}

/** A storage buffer binding (bindings from 1); `vec4<f32>` binds a float32 buffer four elements to a word. */
export function storage(binding: number, name: string, type: Scalar | 'vec4<f32>', write: boolean): string {
  return `@group(0) @binding(${binding}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${type}>;`;
}

/** Helpers most templates use. */
export const HELPERS = `
// Infinities and NaN come from bit patterns held in private variables: a constant expression that
// evaluates to one is a compile error in WGSL.
var<private> NEG_INF_BITS: u32 = 0xff800000u;
var<private> POS_INF_BITS: u32 = 0x7f800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn neg_inf() -> f32 { return bitcast<f32>(NEG_INF_BITS); }
fn pos_inf() -> f32 { return bitcast<f32>(POS_INF_BITS); }
fn nan_f32() -> f32 { return bitcast<f32>(NAN_BITS); }
`;

/**
 * Workgroups are laid out on a 2D grid when one dimension is not enough; the kernel recovers its linear
 * workgroup index from `num_workgroups`.
 */
export function grid(groups: number, maxPerDim: number): [number, number, number] {
  if (groups <= maxPerDim) return [Math.max(1, groups), 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim) throw new Error(`webgpu: ${groups} workgroups exceed the device's ${maxPerDim}² grid`);
  return [Math.ceil(groups / y), y, 1];
}

export const LINEAR_GROUP = 'let group = wid.y * nwg.x + wid.x;';

/** The entry point of a kernel with one invocation per item, up to the line that names the item `index`. */
export function linearMain(wg: number, index: string): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let ${index} = group * ${wg}u + lid;`;
}

/**
 * Merges dims that are contiguous for every stride set, and drops size-1 dims (tensor's collapseDims); a view of
 * all size-1 dims becomes rank 0 here, which the templates handle without an index loop.
 */
export function collapse(shape: readonly number[], stridesList: readonly (readonly number[])[]): CollapsedDims {
  return rankZeroWhereScalar(collapseDims(shape, stridesList));
}

/** collapseDims gives a single element one dim of size 1; the WGSL index maths wants rank 0 there. */
export function rankZeroWhereScalar(c: CollapsedDims): CollapsedDims {
  return c.shape.length === 1 && c.shape[0] === 1 ? { shape: [], strides: c.strides.map(() => []) } : c;
}

/**
 * WGSL that turns a linear index `lin` (row-major over `rank` dims whose sizes are parameter words
 * `shapeAt..`) into element offsets for each operand (offset word, then `rank` stride words, per operand).
 */
export function stridedOffsets(lin: string, rank: number, shapeAt: number, operands: { name: string; at: number }[]): string {
  const lines: string[] = [];
  for (const op of operands) lines.push(`var ${op.name} = ${pi(op.at)};`);
  if (rank > 0) lines.push(`var rem = ${lin};`);
  for (let d = rank - 1; d >= 0; d--) {
    const size = pu(shapeAt + d);
    lines.push(`{ let c = i32(rem % ${size}); rem = rem / ${size};`);
    for (const op of operands) lines.push(`  ${op.name} += c * ${pi(op.at + 1 + d)};`);
    lines.push('}');
  }
  return lines.join('\n    ');
}

/** The largest power of two ≤ n. */
export function floorPow2(n: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, n)));
}
