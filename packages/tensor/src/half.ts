/**
 * Host conversions between numbers and the two 16-bit float formats, as their bit patterns:
 * - float16 (IEEE 754 binary16): 1 sign, 5 exponent (bias 15), 10 mantissa bits;
 * - bfloat16: 1 sign, 8 exponent (bias 127), 7 mantissa bits — the top 16 bits of a float32.
 *
 * Narrowing rounds to nearest, ties to even (IEEE 754's default), from the exact value of the input: a float64
 * is rounded once, never through float32 (double rounding would break ties). Results past the largest finite
 * value by half an ulp or more become ±Infinity; subnormals are produced and read exactly; -0 stays -0. A NaN
 * stays a NaN of the same sign, quieted, keeping the top bits of its payload that fit (what x86's F16C and ARM
 * convert instructions do; PyTorch's bfloat16 conversion returns the canonical 0x7FC0 instead, sign dropped).
 * Widening is exact: every float16 and bfloat16 value is a float32.
 */
import type { HalfDType } from './dtype.js';

// ---------------------------------------------------------------------------------------- scratch for bits

const f64 = new Float64Array(1);
const f64Hi = new Uint32Array(f64.buffer, 4, 1); // little-endian: the word with sign, exponent, top of mantissa
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** Bits of a format: mantissa width, exponent range and NaN layout. */
interface Format {
  /** Stored mantissa bits (p − 1 in IEEE's notation). */
  mant: number;
  /** Exponent of the smallest normal and of the largest finite value. */
  emin: number;
  emax: number;
}

const F16: Format = { mant: 10, emin: -14, emax: 15 };
const BF16: Format = { mant: 7, emin: -126, emax: 127 };

/** Round half to even of a non-negative double below 2^53 (exact: floor and the difference are exact there). */
function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The bit pattern of the value of `fmt` nearest `x` (any double), ties to even. */
function narrow(x: number, fmt: Format): number {
  f64[0] = x;
  const hi = f64Hi[0];
  const sign = (hi >>> 31) << 15;
  const expField = ((1 << (15 - fmt.mant)) - 1) << fmt.mant;
  if (x !== x) {
    // quiet bit set, then as much of the float64 payload's top as fits
    const payload = (hi & 0xfffff) >>> (20 - fmt.mant);
    return sign | expField | (1 << (fmt.mant - 1)) | payload;
  }
  const a = Math.abs(x);
  if (a === 0) return sign;
  let e = ((hi >>> 20) & 0x7ff) - 1023; // a float64 subnormal reads −1023: below every emin here
  if (e > fmt.emax) return sign | expField; // also ±Infinity itself
  if (e < fmt.emin) {
    // subnormal in the target: an integer multiple of 2^(emin − mant); m = 2^mant is the smallest normal
    const m = roundHalfEven(a * 2 ** (fmt.mant - fmt.emin));
    return sign | m;
  }
  // a = q · 2^(e − mant) with q in [2^mant, 2^(mant+1)); powers of two scale exactly
  let m = roundHalfEven(a * 2 ** (fmt.mant - e));
  if (m === 2 ** (fmt.mant + 1)) {
    m /= 2;
    e += 1;
    if (e > fmt.emax) return sign | expField;
  }
  return sign | ((e + fmt.emax) << fmt.mant) | (m - 2 ** fmt.mant);
}

/** The float16 bit pattern nearest `x` (round to nearest, ties to even). */
export function toFloat16Bits(x: number): number {
  return narrow(x, F16);
}

/** The bfloat16 bit pattern nearest `x` (round to nearest, ties to even). */
export function toBFloat16Bits(x: number): number {
  return narrow(x, BF16);
}

/** The value of a float16 bit pattern (the low 16 bits of `bits`). */
export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >>> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m === 0 ? sign * Infinity : NaN;
  return sign * (1024 + m) * 2 ** (e - 25);
}

/** The value of a bfloat16 bit pattern (the low 16 bits of `bits`): the float32 with these as its top half. */
export function fromBFloat16Bits(bits: number): number {
  f32Bits[0] = (bits & 0xffff) << 16;
  return f32[0];
}

// ---------------------------------------------------------------------------------------- float32 bit paths

/**
 * float32 bits → float16 bits, round to nearest even, by integer arithmetic (the bulk path; same results as
 * `toFloat16Bits` of the float32's value).
 */
export function float32BitsToFloat16Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const x = u & 0x7fffffff;
  if (x >= 0x7f800000) return x === 0x7f800000 ? sign | 0x7c00 : sign | 0x7e00 | ((x >>> 13) & 0x3ff);
  // 65520 = 65504 + half an ulp: the tie rounds to the even neighbour, which is Infinity
  if (x >= 0x477ff000) return sign | 0x7c00;
  if (x < 0x38800000) {
    // below 2^-14: a float16 subnormal, m · 2^-24; at or below 2^-25 (half the smallest) it rounds to zero
    if (x <= 0x33000000) return sign;
    const e = x >>> 23;
    const mant = (x & 0x7fffff) | 0x800000;
    const shift = 126 - e; // 14..24
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (r & 1) !== 0)) r++;
    return sign | r;
  }
  // normal: rebias the exponent (127 → 15) and drop 13 mantissa bits; a carry runs into the exponent correctly
  let r = (x - 0x38000000) >>> 13;
  const rem = x & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1) !== 0)) r++;
  return sign | r;
}

/** float32 bits → bfloat16 bits, round to nearest even (the top half of the float32, rounded). */
export function float32BitsToBFloat16Bits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x0040) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * A pattern of one half format as the other, through its exact float32 bits: rounded to nearest even, and a NaN
 * kept a NaN of its sign with the top of its payload (through a number, a NaN's sign would be lost).
 */
export function halfBitsToHalfBits(bits: number, from: HalfDType, to: HalfDType): number {
  const u = from === 'bfloat16' ? ((bits & 0xffff) << 16) >>> 0 : float16Table()[bits & 0xffff];
  return to === 'bfloat16' ? float32BitsToBFloat16Bits(u) : float32BitsToFloat16Bits(u);
}

// ---------------------------------------------------------------------------------------- bulk

let f16Table: Uint32Array | null = null;

/** float32 bits of every float16 pattern (256 KiB, built once): widening is then one load per element. */
function float16Table(): Uint32Array {
  if (f16Table) return f16Table;
  const bits = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0x1f) bits[h] = sign | 0x7f800000 | (m << 13); // Inf, or NaN keeping its payload
    else if (e === 0) {
      f32[0] = m * 2 ** -24;
      bits[h] = sign | f32Bits[0];
    } else bits[h] = sign | ((e + 112) << 23) | (m << 13);
  }
  return (f16Table = bits);
}

/**
 * Half bit patterns → their values as float32 (exact, a NaN's payload kept: the bits move as integers, since a
 * float register may quiet a signalling NaN). `out` may be given (same length) to write into.
 */
export function halfBitsToFloat32Array(bits: Uint16Array, dtype: HalfDType, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  checkLength(bits.length, out.length);
  const o = new Uint32Array(out.buffer, out.byteOffset, out.length);
  if (dtype === 'bfloat16') {
    for (let i = 0; i < bits.length; i++) o[i] = bits[i] << 16;
  } else {
    const t = float16Table();
    for (let i = 0; i < bits.length; i++) o[i] = t[bits[i]];
  }
  return out;
}

/**
 * Numbers → half bit patterns, each rounded once to nearest even. A Float32Array goes by its bits (fast, NaN
 * payloads kept); anything else (Float64Array, number[]) by each value as a double. `out` may be given.
 */
export function arrayToHalfBits(values: ArrayLike<number>, dtype: HalfDType, out: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  checkLength(values.length, out.length);
  if (values instanceof Float32Array) {
    const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
    const conv = dtype === 'bfloat16' ? float32BitsToBFloat16Bits : float32BitsToFloat16Bits;
    for (let i = 0; i < u.length; i++) out[i] = conv(u[i]);
  } else {
    const fmt = dtype === 'bfloat16' ? BF16 : F16;
    for (let i = 0; i < values.length; i++) out[i] = narrow(values[i], fmt);
  }
  return out;
}

/** One value of `dtype` from its bits. */
export function halfBitsToNumber(bits: number, dtype: HalfDType): number {
  return dtype === 'bfloat16' ? fromBFloat16Bits(bits) : fromFloat16Bits(bits);
}

/** The bits of the value of `dtype` nearest `x`. */
export function numberToHalfBits(x: number, dtype: HalfDType): number {
  return dtype === 'bfloat16' ? toBFloat16Bits(x) : toFloat16Bits(x);
}

function checkLength(n: number, outLength: number): void {
  if (outLength !== n) throw new RangeError(`half conversion: the output has ${outLength} elements, the input ${n}`);
}
