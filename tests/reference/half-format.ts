// float16 (IEEE 754 binary16) and bfloat16 written from their definitions, for checking the library's conversions.
// Decoding is the formula; rounding is an exact search over every finite value of the format (BigInt), with
// IEEE 754's round-to-nearest-ties-to-even and its overflow rule. Nothing here imports the packages under test.

export interface HalfFormat {
  name: 'float16' | 'bfloat16';
  /** Exponent field width and stored mantissa width (p in the formula below). */
  expBits: number;
  mantBits: number;
  bias: number;
}

export const BINARY16: HalfFormat = { name: 'float16', expBits: 5, mantBits: 10, bias: 15 };
export const BFLOAT16: HalfFormat = { name: 'bfloat16', expBits: 8, mantBits: 7, bias: 127 };

/**
 * The value of a bit pattern: (−1)^s · 2^(e−bias) · (1 + m/2^p) for a normal, (−1)^s · 2^(1−bias) · (m/2^p) for a
 * subnormal (e = 0), ±∞ for the all-ones exponent with m = 0 and NaN with m ≠ 0.
 */
export function decodeHalf(bits: number, f: HalfFormat): number {
  const s = (bits >> 15) & 1;
  const e = (bits >> f.mantBits) & ((1 << f.expBits) - 1);
  const m = bits & ((1 << f.mantBits) - 1);
  const sign = s ? -1 : 1;
  if (e === (1 << f.expBits) - 1) return m === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * Math.pow(2, 1 - f.bias) * (m / Math.pow(2, f.mantBits));
  return sign * Math.pow(2, e - f.bias) * (1 + m / Math.pow(2, f.mantBits));
}

// ---- exact values, as BigInt multiples of 2^-1074 (the smallest float64 subnormal: every double and every half
// value is an integer number of these)

const UNIT_EXP = 1074n;

/** |x| of a finite double as an exact multiple of 2^-1074, from its IEEE 754 binary64 fields. */
export function exactMagnitude(x: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const bits = dv.getBigUint64(0);
  const e = Number((bits >> 52n) & 0x7ffn);
  const m = bits & ((1n << 52n) - 1n);
  if (e === 0) return m; // subnormal: m · 2^-1074
  return ((1n << 52n) | m) << BigInt(e - 1); // (2^52 + m) · 2^(e − 1075) = that · 2^(e−1) units
}

/** The sign bit of a double (−0 and negative NaNs included). */
export function signBit(x: number): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  return dv.getUint8(0) >> 7;
}

/** |value| of a finite non-negative pattern in 2^-1074 units. */
function exactHalf(bits: number, f: HalfFormat): bigint {
  const e = (bits >> f.mantBits) & ((1 << f.expBits) - 1);
  const m = BigInt(bits & ((1 << f.mantBits) - 1));
  const p = BigInt(f.mantBits);
  // subnormal: m · 2^(1 − bias − p); normal: (2^p + m) · 2^(e − bias − p)
  const [mant, exp] = e === 0 ? [m, 1 - f.bias] : [(1n << p) | m, e - f.bias];
  return mant << (BigInt(exp) - p + UNIT_EXP);
}

const tables = new Map<string, bigint[]>();

/** Every non-negative finite value of the format, ascending (positive patterns 0 … largest finite are in order). */
function finiteValues(f: HalfFormat): bigint[] {
  let t = tables.get(f.name);
  if (!t) {
    const largest = (((1 << f.expBits) - 1) << f.mantBits) - 1;
    t = Array.from({ length: largest + 1 }, (_, b) => exactHalf(b, f));
    tables.set(f.name, t);
  }
  return t;
}

export type RoundResult = { nan: true; sign: number } | { nan: false; bits: number };

/**
 * The pattern IEEE 754 round-to-nearest-even gives `x`: the nearest finite value, the one with an even mantissa
 * (even pattern) on a tie; ±∞ when |x| ≥ 2^emax · (2 − 2^-(p+1)), the largest finite value plus half its ulp. NaN
 * maps to NaN of the same sign (the payload is the implementation's choice within a quiet NaN).
 */
export function roundToHalf(x: number, f: HalfFormat): RoundResult {
  const sign = signBit(x);
  if (Number.isNaN(x)) return { nan: true, sign };
  const sbit = sign << 15;
  const inf = sbit | (((1 << f.expBits) - 1) << f.mantBits);
  if (!Number.isFinite(x)) return { nan: false, bits: inf };
  const a = exactMagnitude(x);
  const vals = finiteValues(f);
  const largest = vals.length - 1;
  // overflow threshold: largest + half an ulp of the largest binade
  const halfUlp = 1n << (BigInt((1 << f.expBits) - 2 - f.bias) - BigInt(f.mantBits) - 1n + UNIT_EXP);
  if (a >= vals[largest] + halfUlp) return { nan: false, bits: inf };
  if (a >= vals[largest]) return { nan: false, bits: sbit | largest };
  // largest lo with vals[lo] <= a
  let lo = 0;
  let hi = largest;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (vals[mid] <= a) lo = mid;
    else hi = mid;
  }
  if (vals[lo] === a) return { nan: false, bits: sbit | lo };
  const below = a - vals[lo];
  const above = vals[hi] - a;
  const pick = below < above ? lo : above < below ? hi : lo % 2 === 0 ? lo : hi;
  return { nan: false, bits: sbit | pick };
}
