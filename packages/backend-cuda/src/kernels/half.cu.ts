/**
 * float16 and bfloat16 in the generated CUDA C, stored as their 16-bit patterns (`unsigned short`) and converted
 * by the functions below, written from IEEE 754's definitions rather than taken from cuda_fp16.h / cuda_bf16.h:
 * the sources stay header-free for NVRTC, and being `__host__ __device__` the very same C runs on the host in the
 * tests (test/half-conversions.test.ts), against tests/reference/half-format.ts, where no GPU is.
 *
 * Formats (sign s, biased exponent e, stored mantissa m of `mant` bits, bias b; emin = 1 − b, emax = b):
 * normal (0 < e < 2b + 1): (−1)^s·2^(e−b)·(1 + m/2^mant); subnormal (e = 0): (−1)^s·2^emin·(m/2^mant); e = 2b + 1:
 * ±∞ (m = 0) or NaN. binary16: mant 10, b 15. bfloat16: mant 7, b 127 (the top half of a binary32).
 *
 * Rounding to nearest, ties to even, of a value (−1)^s·2^E·M/2^52 with a 53-bit significand M (2^52 ≤ M < 2^53):
 * in the normal range keep the top mant + 1 bits of M and look at the dropped ones against half a unit of the last
 * kept place (above: up, below: down, exactly half: to the even neighbour); a carry past the top moves into the
 * exponent, and from the largest binade into infinity's pattern. Below the smallest normal the value is a multiple
 * of 2^(emin − mant), M shifted further right and rounded the same way.
 */

/** The conversions (host and device). */
export const HALF_CONVERSIONS = `
// ---- float16 / bfloat16 as 16-bit patterns (kernels/half.cu.ts) ----
__device__ __host__ __forceinline__ u64 sift_bits_of_double(double x) { union { double d; u64 u; } c; c.d = x; return c.u; }
__device__ __host__ __forceinline__ u32 sift_bits_of_float(float x) { union { float f; u32 u; } c; c.f = x; return c.u; }
__device__ __host__ __forceinline__ float sift_float_of_bits(u32 u) { union { float f; u32 u; } c; c.u = u; return c.f; }

// binary16 pattern -> its value (exact: a binary16 subnormal is a normal float)
__device__ __host__ __forceinline__ float sift_f16_to_float(unsigned short h) {
  const u32 s = (u32)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1fu) return sift_float_of_bits(s | 0x7f800000u | (m << 13)); // inf, or NaN with its payload
  if (e != 0u) return sift_float_of_bits(s | ((e + 112u) << 23) | (m << 13)); // rebias 15 -> 127
  if (m == 0u) return sift_float_of_bits(s);
  int p = 9; // m's top bit: m·2^-24 = 2^(p-24)·(1 + (m - 2^p)/2^p)
  while (!((m >> p) & 1u)) p--;
  return sift_float_of_bits(s | ((u32)(p + 103) << 23) | ((m << (23 - p)) & 0x7fffffu));
}
// bfloat16 pattern -> its value: the top half of that float
__device__ __host__ __forceinline__ float sift_bf16_to_float(unsigned short h) { return sift_float_of_bits((u32)h << 16); }

// m >> k rounded to nearest, ties to even (1 <= k <= 63)
__device__ __host__ __forceinline__ u64 sift_shift_round_even(u64 m, int k) {
  const u64 kept = m >> k, rest = m & ((1ull << k) - 1ull), tie = 1ull << (k - 1);
  return kept + ((rest > tie || (rest == tie && (kept & 1ull))) ? 1ull : 0ull);
}

// The pattern nearest (-1)^sign·2^e·M/2^52 (M: 53-bit significand, top bit set) in the format (mant, bias).
__device__ __host__ __forceinline__ unsigned short sift_round_to_half(u32 sign, int e, u64 M, int mant, int bias) {
  const u32 inf = (u32)(2 * bias + 1) << mant;
  if (e > bias) return (unsigned short)(sign | inf);
  const int emin = 1 - bias;
  if (e >= emin) {
    const u64 q = sift_shift_round_even(M, 52 - mant); // in [2^mant, 2^(mant+1)]
    return (unsigned short)(sign | (((u32)(e + bias) << mant) + (u32)(q - (1ull << mant))));
  }
  const int k = 52 - mant + (emin - e);
  if (k > 53) return (unsigned short)sign; // below half the smallest subnormal (a tie at exactly half: to 0, even)
  return (unsigned short)(sign | (u32)sift_shift_round_even(M, k));
}

// A double's nearest pattern (one rounding from its exact value). NaN: quiet, sign and top of the payload kept.
__device__ __host__ __forceinline__ unsigned short sift_double_to_half(double x, int mant, int bias) {
  const u64 b = sift_bits_of_double(x);
  const u32 sign = (u32)(b >> 48) & 0x8000u;
  const u64 a = b & 0x7fffffffffffffffull;
  if (a > 0x7ff0000000000000ull) return (unsigned short)(sign | ((u32)(2 * bias + 1) << mant) | (1u << (mant - 1)) | (u32)((a >> (52 - mant)) & ((1ull << mant) - 1ull)));
  if (a == 0ull) return (unsigned short)sign;
  const int ef = (int)(a >> 52);
  if (ef == 0) return (unsigned short)sign; // a double subnormal: below 2^-1022, far under either format's smallest
  return sift_round_to_half(sign, ef - 1023, (a & 0xfffffffffffffull) | (1ull << 52), mant, bias);
}

// A float's nearest pattern, from its bits (its own NaN payload kept; a float subnormal is normalised first).
__device__ __host__ __forceinline__ unsigned short sift_float_to_half(float x, int mant, int bias) {
  const u32 b = sift_bits_of_float(x);
  const u32 sign = (b >> 16) & 0x8000u;
  const u32 a = b & 0x7fffffffu;
  if (a > 0x7f800000u) return (unsigned short)(sign | ((u32)(2 * bias + 1) << mant) | (1u << (mant - 1)) | ((a >> (23 - mant)) & ((1u << mant) - 1u)));
  if (a == 0u) return (unsigned short)sign;
  const int ef = (int)(a >> 23);
  u32 f = a & 0x7fffffu;
  int e = ef - 127;
  if (ef == 0) { // f·2^-149: normalise
    int p = 22;
    while (!((f >> p) & 1u)) p--;
    e = p - 149;
    f = (f << (23 - p)) & 0x7fffffu;
  }
  return sift_round_to_half(sign, e, ((u64)(f | 0x800000u)) << 29, mant, bias);
}

// The stores kernels use: overloaded so a float result rounds from its bits and a double from its exact value.
__device__ __host__ __forceinline__ unsigned short sift_to_f16(float x) { return sift_float_to_half(x, 10, 15); }
__device__ __host__ __forceinline__ unsigned short sift_to_f16(double x) { return sift_double_to_half(x, 10, 15); }
__device__ __host__ __forceinline__ unsigned short sift_to_bf16(float x) { return sift_float_to_half(x, 7, 127); }
__device__ __host__ __forceinline__ unsigned short sift_to_bf16(double x) { return sift_double_to_half(x, 7, 127); }
`;

/**
 * Atomic adds into a half element (scatterFlat's 'add'): a compare-and-swap of the 32-bit word holding it, the
 * other half left as it is. Each add is rounded (the order of the adds is the hardware's), as PyTorch's CUDA
 * index_add_ on half tensors. The word lies inside the allocation: blocks are whole size classes (512-byte multiples).
 */
export const HALF_ATOMIC_ADD = `
__device__ __forceinline__ void sift_atomic_add_half(unsigned short* p, float v, bool bf16) {
  unsigned int* w = (unsigned int*)((size_t)p & ~(size_t)3);
  const unsigned int sh = ((size_t)p & 2) ? 16u : 0u;
  unsigned int old = *w, assumed;
  do {
    assumed = old;
    const unsigned short cur = (unsigned short)((assumed >> sh) & 0xffffu);
    const unsigned short next = bf16 ? sift_to_bf16(sift_bf16_to_float(cur) + v) : sift_to_f16(sift_f16_to_float(cur) + v);
    old = atomicCAS(w, assumed, (assumed & ~(0xffffu << sh)) | ((unsigned int)next << sh));
  } while (old != assumed);
}
`;
