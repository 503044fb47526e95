import type { DType } from '@siftjs/tensor';
import { DTYPE_TAG, type KernelSource, PRELUDE, floatOnly } from './common.cu.js';

/**
 * Philox 4x32-10 in CUDA C with the stream layout of @siftjs/tensor's random/philox.ts, bit for bit:
 *   key = [seedLo, seedHi]; block b: counter [b mod 2^32, floor(b / 2^32), offsetLo, offsetHi];
 *   float32 uniform/normal: element i = word i mod 4 of block floor(i / 4);
 *   float64 uniform: element i = words (2(i mod 2), 2(i mod 2)+1) of block floor(i / 2);
 *   normal: Box–Muller per word pair (w0, w1), (w2, w3) in double, float32 rounding the result.
 * The element functions are __host__ __device__, so the tests run the same C on the host against the CPU.
 * Compiled with --fmad=false so 2π·u2 and r·cos θ round as in JavaScript.
 */

/** The Philox4x32 multipliers and Weyl key increments (Salmon et al. 2011). */
export const PHILOX_CONSTANTS = { M0: 0xd2511f53, M1: 0xcd9e8d57, W0: 0x9e3779b9, W1: 0xbb67ae85 } as const;
export const PHILOX_ROUNDS = 10;
export const PHILOX_OPTIONS = ['--fmad=false'];

const hex = (x: number) => `0x${x.toString(16).toUpperCase().padStart(8, '0')}u`;

/** 2π as JavaScript's 2 * Math.PI, printed so that the C literal parses to the same double. */
const TWO_PI = (2 * Math.PI).toPrecision(17);

export const PHILOX_DEVICE = `
#define PHILOX_M0 ${hex(PHILOX_CONSTANTS.M0)}
#define PHILOX_M1 ${hex(PHILOX_CONSTANTS.M1)}
#define PHILOX_W0 ${hex(PHILOX_CONSTANTS.W0)}
#define PHILOX_W1 ${hex(PHILOX_CONSTANTS.W1)}
#define PHILOX_ROUNDS ${PHILOX_ROUNDS}

// One Philox4x32 block: counter (c0..c3), key (k0, k1) -> w[0..3]. The key bumps after every round.
__host__ __device__ __forceinline__ void philox_block(u32 c0, u32 c1, u32 c2, u32 c3, u32 k0, u32 k1, u32* w) {
#pragma unroll
  for (int r = 0; r < PHILOX_ROUNDS; r++) {
    const u64 p0 = (u64)PHILOX_M0 * (u64)c0;
    const u64 p1 = (u64)PHILOX_M1 * (u64)c2;
    const u32 hi0 = (u32)(p0 >> 32), lo0 = (u32)p0;
    const u32 hi1 = (u32)(p1 >> 32), lo1 = (u32)p1;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  w[0] = c0; w[1] = c1; w[2] = c2; w[3] = c3;
}

// Block b of the stream (b < 2^53).
__host__ __device__ __forceinline__ void philox_stream_block(u64 b, u32 k0, u32 k1, u32 o0, u32 o1, u32* w) {
  philox_block((u32)b, (u32)(b >> 32), o0, o1, k0, k1, w);
}

// (w >>> 8) * 2^-24: exact in float, in [0, 1).
__host__ __device__ __forceinline__ float philox_uniform_f32(u32 w) { return (float)(w >> 8) * 5.9604644775390625e-08f; }

// ((hi >>> 5) * 2^26 + (lo >>> 6)) * 2^-53: exact in double, in [0, 1).
__host__ __device__ __forceinline__ double philox_uniform_f64(u32 lo, u32 hi) {
  return ((double)(hi >> 5) * 67108864.0 + (double)(lo >> 6)) * 1.1102230246251565e-16;
}

// Box-Muller on one word pair: u1 in (0, 1], u2 in [0, 1).
__host__ __device__ __forceinline__ void philox_normal_pair(u32 wa, u32 wb, double* z0, double* z1) {
  const double u1 = (double)((wa >> 8) + 1u) * 5.9604644775390625e-08;
  const double u2 = (double)(wb >> 8) * 5.9604644775390625e-08;
  const double r = sqrt(-2.0 * log(u1));
  const double theta = ${TWO_PI} * u2;
  *z0 = r * cos(theta);
  *z1 = r * sin(theta);
}
`;

/** One thread per Philox block; each writes the elements of its block that fall below n. */
export function randomKernel(kind: 'uniform' | 'normal', dtype: DType): KernelSource {
  if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`random: float32 or float64 only, got ${dtype}`);
  const T = floatOnly(dtype, 'random');
  const name = `random_${kind}_${DTYPE_TAG[dtype]}`;
  let perBlock: number;
  let body: string;
  if (kind === 'uniform' && dtype === 'float64') {
    perBlock = 2;
    body = `out[i] = philox_uniform_f64(w[0], w[1]);
    if (i + 1 < n) out[i + 1] = philox_uniform_f64(w[2], w[3]);`;
  } else if (kind === 'uniform') {
    perBlock = 4;
    body = `for (int j = 0; j < 4 && i + j < n; j++) out[i + j] = philox_uniform_f32(w[j]);`;
  } else {
    perBlock = 4;
    body = `double z[4];
    philox_normal_pair(w[0], w[1], &z[0], &z[1]);
    philox_normal_pair(w[2], w[3], &z[2], &z[3]);
    for (int j = 0; j < 4 && i + j < n; j++) out[i + j] = (${T})z[j];`;
  }
  const source = `${PRELUDE}${PHILOX_DEVICE}
extern "C" __global__ void ${name}(${T}* __restrict__ out, i64 n, u32 k0, u32 k1, u32 o0, u32 o1) {
  const i64 blocks = (n + ${perBlock - 1}) / ${perBlock};
  for (i64 b = (i64)blockIdx.x * blockDim.x + threadIdx.x; b < blocks; b += (i64)gridDim.x * blockDim.x) {
    u32 w[4];
    philox_stream_block((u64)b, k0, k1, o0, o1, w);
    const i64 i = b * ${perBlock};
    ${body}
  }
}
`;
  return { name, source, options: PHILOX_OPTIONS };
}

/** How many Philox blocks (threads) a request of n elements uses. */
export function randomBlocks(kind: 'uniform' | 'normal', dtype: DType, n: number): number {
  return Math.ceil(n / (kind === 'uniform' && dtype === 'float64' ? 2 : 4));
}
