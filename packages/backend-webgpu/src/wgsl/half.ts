/**
 * float16 and bfloat16 in WGSL without `shader-f16`: a half storage is an `array<u32>`, element i in bits
 * 16·(i mod 2) … 16·(i mod 2) + 15 of word ⌊i/2⌋ (little-endian, the host's Uint16Array layout). Kernels widen
 * each element to f32 on load and round once to nearest, ties to even, on store. The conversions are integer
 * arithmetic on bit patterns, written from IEEE 754's definitions (below), so they do not depend on what a device
 * does with subnormals or on how `pack2x16float` rounds (WGSL leaves its rounding to the implementation).
 *
 * Formats (sign s, biased exponent e, stored mantissa m):
 * - binary16: 1 + 5 + 10 bits, bias 15: (−1)^s·2^(e−15)·(1 + m/2^10) for 0 < e < 31; subnormals (e = 0)
 *   (−1)^s·2^−14·(m/2^10) = (−1)^s·m·2^−24; e = 31 is ±∞ (m = 0) or NaN.
 * - bfloat16: the top half of a binary32 (1 + 8 + 7 bits, bias 127).
 *
 * Round to nearest even of a binary32 pattern into a format with fewer mantissa bits: keep the top bits, look at
 * the dropped ones (`rest`) against half a unit of the last kept place (`tie`): above rounds up, below rounds
 * down, exactly half rounds to the even neighbour. Rounding up may carry into the exponent, which is the next
 * binade (or ∞ past the largest finite value) by the layout of the fields.
 */

/** The WGSL conversions every kernel with a half operand includes. */
export const HALF_FUNCTIONS = `
// binary16 pattern (low 16 bits) -> its exact f32 value.
fn widen_f16(h: u32) -> f32 {
    let s = (h & 0x8000u) << 16u;
    let e = (h >> 10u) & 0x1fu;
    let m = h & 0x3ffu;
    if (e == 0x1fu) { return bitcast<f32>(s | 0x7f800000u | (m << 13u)); } // inf, or NaN with its payload
    if (e != 0u) { return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u)); } // rebias 15 -> 127
    if (m == 0u) { return bitcast<f32>(s); }
    // subnormal m·2^-24 with m's top bit at p: 2^(p-24)·(1 + (m - 2^p)/2^p), a normal f32 (biased exponent p + 103)
    let p = firstLeadingBit(m);
    return bitcast<f32>(s | ((p + 103u) << 23u) | ((m << (23u - p)) & 0x7fffffu));
}
// bfloat16 pattern (low 16 bits) -> its f32 value: the pattern is the top half of that f32.
fn widen_bf16(h: u32) -> f32 {
    return bitcast<f32>(h << 16u);
}
// m >> k rounded to nearest, ties to even (1 <= k <= 24).
fn shift_round_even(m: u32, k: u32) -> u32 {
    let kept = m >> k;
    let rest = m & ((1u << k) - 1u);
    let tie = 1u << (k - 1u);
    return kept + select(0u, 1u, rest > tie || (rest == tie && (kept & 1u) == 1u));
}
// f32 pattern -> the nearest binary16 pattern.
fn round_f16(u: u32) -> u32 {
    let s = (u >> 16u) & 0x8000u;
    let a = u & 0x7fffffffu;
    if (a > 0x7f800000u) { return s | 0x7e00u | ((a >> 13u) & 0x3ffu); } // NaN: quiet, top of the payload kept
    // 65520 = 65504 + half an ulp: at and above it (infinity included) the nearest is infinity (the tie goes to
    // the even neighbour, which is infinity's pattern)
    if (a >= 0x477ff000u) { return s | 0x7c00u; }
    if (a >= 0x38800000u) {
        // normal (|x| >= 2^-14): rebias 127 -> 15 and drop 13 mantissa bits; a carry moves into the exponent
        return s | shift_round_even(a - 0x38000000u, 13u);
    }
    // below 2^-14: a multiple of 2^-24. |x| = (2^23 + f)·2^(E-150) = that·2^-24 / 2^(126-E); at or below
    // 2^-25 (half the smallest subnormal, a tie with zero) it is zero
    if (a <= 0x33000000u) { return s; }
    let E = a >> 23u;
    return s | shift_round_even((a & 0x7fffffu) | 0x800000u, 126u - E);
}
// f32 pattern -> the nearest bfloat16 pattern (drop 16 mantissa bits).
fn round_bf16(u: u32) -> u32 {
    if ((u & 0x7fffffffu) > 0x7f800000u) { return (u >> 16u) | 0x40u; } // NaN: quiet, top of the payload kept
    // adding 0x7fff plus the kept part's low bit carries exactly when the rest is above half, or half and odd;
    // the largest finite values round into infinity's pattern
    return (u + 0x7fffu + ((u >> 16u) & 1u)) >> 16u;
}
// The f32 pattern of a 32-bit integer's magnitude rounded to odd (truncated, with a sticky low bit): rounding
// it once more to a half format (11 or 8 significant bits, at least 2 fewer than f32's 24) gives the integer
// correctly rounded, with no double rounding.
fn u32_to_f32_odd(n: u32) -> u32 {
    if (n == 0u) { return 0u; }
    let p = firstLeadingBit(n);
    if (p <= 23u) { return ((p + 127u) << 23u) | ((n << (23u - p)) & 0x7fffffu); }
    let k = p - 23u;
    let sticky = select(0u, 1u, (n & ((1u << k) - 1u)) != 0u);
    return ((p + 127u) << 23u) | (((n >> k) | sticky) & 0x7fffffu);
}
fn i32_to_f16(v: i32) -> u32 {
    return select(0u, 0x8000u, v < 0) | round_f16(u32_to_f32_odd(u32(abs(v))));
}
fn i32_to_bf16(v: i32) -> u32 {
    return select(0u, 0x8000u, v < 0) | round_bf16(u32_to_f32_odd(u32(abs(v))));
}
`;
