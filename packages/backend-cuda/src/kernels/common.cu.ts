import { type DType, isHalf } from '@siftjs/tensor';
import { HALF_CONVERSIONS } from './half.cu.js';

/**
 * Shared pieces of the generated CUDA C: dtype → C type, the strided-geometry parameter block, and device
 * helpers. Every kernel source is self-contained (no #include), so NVRTC compiles it without headers and the
 * local nvcc compiles the very same text in the tests.
 */

/** One generated kernel: its entry point, CUDA C source, and NVRTC options beyond the architecture. */
export interface KernelSource {
  /** The extern "C" entry point (also the cache key's readable part). */
  name: string;
  source: string;
  /** e.g. ['--fmad=false'] where bit-exact agreement with the CPU matters. */
  options: string[];
}

/** The most dims a strided operand may have (higher ranks are collapsed first, see geometry.ts). */
export const MAX_RANK = 6;
/** The most operands (inputs + output) one elementwise kernel walks. */
export const MAX_OPERANDS = 4;

/**
 * How each dtype is stored. float16 and bfloat16 are their 16-bit patterns (`unsigned short`), converted by the
 * functions in HALF below (no cuda_fp16.h: the sources stay header-free for NVRTC, and the same conversions run on
 * the host in the tests).
 */
export const C_TYPE: Record<DType, string> = { float32: 'float', float64: 'double', int32: 'int', bool: 'unsigned char', float16: 'unsigned short', bfloat16: 'unsigned short' };

/** The type values are computed in: float32 and the half formats in float, the rest in double (as the CPU does). */
export function computeType(dtype: DType): 'float' | 'double' {
  return dtype === 'float32' || isHalf(dtype) ? 'float' : 'double';
}

/** The value of a loaded element `expr` of `dtype`: a half pattern widened to float (exact), anything else itself. */
export function loadAs(dtype: DType, expr: string): string {
  if (dtype === 'float16') return `sift_f16_to_float(${expr})`;
  if (dtype === 'bfloat16') return `sift_bf16_to_float(${expr})`;
  return expr;
}

/** A math function name for a compute type: expf for float, exp for double. */
export function mathFn(name: string, c: 'float' | 'double'): string {
  return c === 'float' ? `${name}f` : name;
}

/** A C identifier fragment for a dtype (for kernel names). */
export const DTYPE_TAG: Record<DType, string> = { float32: 'f32', float64: 'f64', int32: 'i32', bool: 'u8', float16: 'f16', bfloat16: 'bf16' };

/**
 * The geometry block passed by value to strided kernels (its byte layout is written by geometry.ts):
 * shape of the walk, then per operand its strides and element offset, all 64-bit.
 */
export const GEO_STRUCT = `struct Geo {
  long long shape[${MAX_RANK}];
  long long stride[${MAX_OPERANDS}][${MAX_RANK}];
  long long offset[${MAX_OPERANDS}];
};`;

/** Size in bytes of Geo (for the parameter packer). */
export const GEO_BYTES = 8 * (MAX_RANK + MAX_OPERANDS * MAX_RANK + MAX_OPERANDS);

/** Device helpers every kernel may use. */
export const PRELUDE = `// siftjs CUDA kernels: generated, self-contained (no headers).
typedef long long i64;
typedef unsigned int u32;
typedef unsigned long long u64;
#ifndef SIFT_INF
#define SIFT_INF __longlong_as_double(0x7ff0000000000000LL)
#endif

// JavaScript's ToInt32, as an Int32Array store does: NaN/inf -> 0, truncate, wrap mod 2^32.
__device__ __host__ __forceinline__ int to_i32(double v) {
  if (!(v - v == 0.0)) return 0;
  double t = trunc(v);
  double m = fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return (int)(u32)m;
}

// JavaScript truthiness of a number: non-zero and not NaN.
__device__ __host__ __forceinline__ bool truthy(double v) { return v != 0.0 && v == v; }
${HALF_CONVERSIONS}
${GEO_STRUCT}

// The element offset of operand k at walk position i (row-major over shape[0..R-1]).
template <int R>
__device__ __forceinline__ i64 geo_offset(const Geo& g, int k, i64 i) {
  i64 off = g.offset[k];
#pragma unroll
  for (int d = R - 1; d >= 0; d--) {
    i64 c = i % g.shape[d];
    i /= g.shape[d];
    off += c * g.stride[k][d];
  }
  return off;
}
`;

/** How a computed value (of compute type) is stored into a dtype, matching the CPU's typed-array stores. */
export function storeAs(dtype: DType, expr: string): string {
  switch (dtype) {
    case 'int32':
      return `to_i32((double)(${expr}))`;
    case 'bool':
      return `(unsigned char)(to_i32((double)(${expr})) & 255)`;
    case 'float32':
      return `(float)(${expr})`;
    case 'float64':
      return `(double)(${expr})`;
    // rounded once, to nearest even, from the float or double value `expr` has (kernels/half.cu.ts)
    case 'float16':
      return `sift_to_f16(${expr})`;
    case 'bfloat16':
      return `sift_to_bf16(${expr})`;
  }
}

/** The grid-stride loop header used by 1-D kernels over `n` items. */
export const GRID_LOOP = 'for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x)';

/** Block-wide sum and max of a double, through shared memory (blockDim.x a power of two ≤ 1024). */
export const BLOCK_REDUCE = `
__device__ double block_sum(double v, double* sh) {
  int t = threadIdx.x;
  sh[t] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) sh[t] += sh[t + s];
    __syncthreads();
  }
  double r = sh[0];
  __syncthreads();
  return r;
}

// NaN wins (as the CPU's max: a NaN anywhere makes the result NaN).
__device__ double block_max(double v, double* sh) {
  int t = threadIdx.x;
  sh[t] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) {
      double a = sh[t], b = sh[t + s];
      sh[t] = (a != a || b != b) ? (a != a ? a : b) : (b > a ? b : a);
    }
    __syncthreads();
  }
  double r = sh[0];
  __syncthreads();
  return r;
}
`;

/** The C storage type of a float dtype (halves included); the kernels that exist for floats only say so for any other. */
export function floatOnly(dtype: DType, what: string): string {
  if (dtype !== 'float32' && dtype !== 'float64' && !isHalf(dtype)) throw new TypeError(`${what}: float dtypes only, got ${dtype}`);
  return C_TYPE[dtype];
}

/** Threads per block of the one-block-per-row kernels (softmax, norms); their shared arrays have this size. */
export const ROW_BLOCK = 256;

/** The grid-stride loop over rows by block, in the row kernels. */
export const ROW_LOOP = 'for (i64 r = blockIdx.x; r < rows; r += gridDim.x)';

/**
 * A kernel cannot throw: an out-of-range index is skipped and reported through the device error word `err`
 * ([code, index, limit]), which the backend reads at its next synchronisation (staging.ts) and turns into the
 * RangeError the CPU backend throws at once, naming the op as the CPU does.
 */
export const INDEX_ERROR = { gatherRows: 1, scatterAddRows: 2, gatherFlat: 3, scatterFlat: 4, adamwIncrement: 5 } as const;

/** The op each error code names in its message (the CPU backend's words). */
export const INDEX_ERROR_OP: Record<number, string> = { 1: 'embedding', 2: 'embedding backward', 3: 'gatherFlat', 4: 'scatterFlat', 5: 'adamwIncrement' };

/** Records the first bad index (the indexing kernels and adamwIncrement). */
export const REPORT_INDEX = `
__device__ __forceinline__ void report_index(int* err, int code, i64 index, i64 limit) {
  if (atomicCAS(err, 0, code) == 0) {
    err[1] = (int)index;
    err[2] = (int)limit;
  }
}
`;

/** Atomic adds exist for float and int32 elements (halves through a compare-and-swap, HALF_ATOMIC_ADD), not bytes. */
export function atomicAddable(dtype: DType, what: string): void {
  if (dtype === 'bool') throw new TypeError(`${what}: no atomic add for bool`);
}

export function checkRank(rank: number, what: string): void {
  if (!Number.isInteger(rank) || rank < 1 || rank > MAX_RANK) throw new RangeError(`${what}: rank ${rank} is outside 1..${MAX_RANK}`);
}
