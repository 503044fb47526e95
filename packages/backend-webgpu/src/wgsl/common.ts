/**
 * Pieces every kernel template shares: the parameter block (one uniform of 32-bit words, read with constant
 * indices the template bakes in), element types, strided indexing, and the dispatch grid.
 */
import { type CollapsedDims, collapseDims, type DType, DTypeError } from '@siftjs/tensor';
import { HALF_FUNCTIONS } from './half.js';

/** The WGSL types elements are computed in: f32 (float32, and the half formats once widened), i32, u32 (bool 0/1). */
export type Scalar = 'f32' | 'i32' | 'u32';

/**
 * How each dtype is stored on the GPU: float32, int32 and bool one 32-bit word per element (bool as u32 0/1);
 * float16 ('f16') and bfloat16 ('bf16') packed two 16-bit patterns to a u32 word (wgsl/half.ts). On a device with
 * `shader-f16`, float16 is 'f16-native': the same bytes, declared `array<f16>`, so a store writes its own 16 bits
 * (no atomics) — bfloat16 has no WGSL type and stays packed.
 */
export type Elem = Scalar | Half;
export type Half = 'f16' | 'bf16' | 'f16-native';

/** Whether elements of this type are 16-bit halves, two to each 32-bit word of their buffer. */
export const isPacked = (e: Elem): e is Half => e === 'f16' || e === 'bf16' || e === 'f16-native';

/** The half format an element type holds, as the conversion functions of wgsl/half.ts name it. */
export const halfFormat = (e: Half): 'f16' | 'bf16' => (e === 'bf16' ? 'bf16' : 'f16');

/** The type a kernel computes an element in: the half formats widen to f32. */
export const valueType = (e: Elem): Scalar => (isPacked(e) ? 'f32' : e);

/** 32-bit words holding `size` elements of `dtype` (halves two to a word). */
export function wordsFor(dtype: DType, size: number): number {
  return dtype === 'float16' || dtype === 'bfloat16' ? Math.ceil(size / 2) : size;
}

/** The storage element type of a dtype (float64 has none: WGSL has no f64); `shaderF16`: the device has `shader-f16`. */
export function elemOf(dtype: DType, shaderF16 = false): Elem {
  switch (dtype) {
    case 'float16':
      return shaderF16 ? 'f16-native' : 'f16';
    case 'bfloat16':
      return 'bf16';
    default:
      return scalarOf(dtype);
  }
}

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
      throw new DTypeError(`webgpu: ${dtype} is stored two to a 32-bit word; this kernel takes 32-bit elements only`);
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

/**
 * A storage binding of elements of type `elem`, with the accessors templates use whatever the storage:
 * `NAME_at(i)` reads element i as its value type (halves widened to f32) and, when writable, `NAME_set(i, v)`
 * stores it (halves rounded to nearest even). Packed halves also have `NAME_bits(i)` / `NAME_set_bits(i, h)`,
 * which move a 16-bit pattern unchanged (copies, gathers, scatters: NaN payloads and -0 kept). Indices are u32
 * element indices. A writable packed binding is an array of atomic words and each store changes only its own
 * half (an atomic AND then an atomic OR), so invocations writing the two halves of one word do not race.
 * The half conversions must be in the shader (`halfFunctions`).
 */
export function binding(b: number, name: string, elem: Elem, write: boolean): string {
  // Parameter names carry a trailing underscore so no binding's name can shadow them.
  if (!isPacked(elem)) {
    const set = write ? `\nfn ${name}_set(i_: u32, v_: ${elem}) { ${name}[i_] = v_; }` : '';
    return `${storage(b, name, elem, write)}\nfn ${name}_at(i_: u32) -> ${elem} { return ${name}[i_]; }${set}`;
  }
  if (elem === 'f16-native') return nativeF16Binding(b, name, write);
  const widen = `widen_${elem}`;
  if (!write) {
    return `@group(0) @binding(${b}) var<storage, read> ${name}: array<u32>;
fn ${name}_bits(i_: u32) -> u32 { return (${name}[i_ >> 1u] >> ((i_ & 1u) << 4u)) & 0xffffu; }
fn ${name}_at(i_: u32) -> f32 { return ${widen}(${name}_bits(i_)); }`;
  }
  return `@group(0) @binding(${b}) var<storage, read_write> ${name}: array<atomic<u32>>;
fn ${name}_bits(i_: u32) -> u32 { return (atomicLoad(&${name}[i_ >> 1u]) >> ((i_ & 1u) << 4u)) & 0xffffu; }
fn ${name}_at(i_: u32) -> f32 { return ${widen}(${name}_bits(i_)); }
fn ${name}_set_bits(i_: u32, h_: u32) {
    let s_ = (i_ & 1u) << 4u;
    atomicAnd(&${name}[i_ >> 1u], ~(0xffffu << s_));
    atomicOr(&${name}[i_ >> 1u], (h_ & 0xffffu) << s_);
}
fn ${name}_set(i_: u32, v_: f32) { ${name}_set_bits(i_, round_${elem}(bitcast<u32>(v_))); }`;
}

/**
 * A float16 binding on a `shader-f16` device. Elements are still widened and rounded by the integer conversions
 * of wgsl/half.ts, not by `f32(h)` / `f16(v)`: WGSL leaves float16 subnormal flushing and the rounding of a narrowing
 * conversion to the implementation, and the contract is IEEE 754 round-to-nearest-even once on store.
 */
function nativeF16Binding(b: number, name: string, write: boolean): string {
  const read = `@group(0) @binding(${b}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<f16>;
fn ${name}_bits(i_: u32) -> u32 { return bitcast<u32>(vec2<f16>(${name}[i_], 0.0h)) & 0xffffu; }
fn ${name}_at(i_: u32) -> f32 { return widen_f16(${name}_bits(i_)); }`;
  if (!write) return read;
  return `${read}
fn ${name}_set_bits(i_: u32, h_: u32) { ${name}[i_] = bitcast<vec2<f16>>(h_ & 0xffffu).x; }
fn ${name}_set(i_: u32, v_: f32) { ${name}_set_bits(i_, round_f16(bitcast<u32>(v_))); }`;
}

/** A shader's source with the directives its declarations need: `enable f16;` where it declares f16 storage. */
export function withDirectives(source: string): string {
  return source.includes('array<f16>') ? `enable f16;\n${source}` : source;
}

/** The half conversions (wgsl/half.ts) where any of a shader's bindings is packed; nothing otherwise. */
export function halfFunctions(...elems: Elem[]): string {
  return elems.some(isPacked) ? HALF_FUNCTIONS : '';
}

/** A move of one element from `src` (index `from`) to `dst` (index `to`): bit patterns for halves of one format, else values. */
export function moveElement(dst: string, dstElem: Elem, to: string, src: string, srcElem: Elem, from: string): string {
  if (isPacked(dstElem) && dstElem === srcElem) return `${dst}_set_bits(${to}, ${src}_bits(${from}));`;
  return `${dst}_set(${to}, ${src}_at(${from}));`;
}

/** Element `at` of the writable binding `name` set to zero (a half's pattern 0 is +0). */
export function zeroElement(name: string, elem: Elem, at: string): string {
  return isPacked(elem) ? `${name}_set_bits(${at}, 0u);` : `${name}_set(${at}, ${zeroOf(elem)});`;
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
