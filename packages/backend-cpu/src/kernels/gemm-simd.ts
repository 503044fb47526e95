import type { FloatArray, Gemm } from './matmul.js';

/** Byte offsets in the heap of one thread's packing scratch (see SIMD_SCRATCH_BYTES). */
export interface SimdScratch {
  packA: number;
  packB: number;
  tile: number;
}

/** Bytes of scratch one thread needs: an MC×KC panel of A, a KC×NC panel of B and one 4×8 tile (float32). */
export const SIMD_SCRATCH_BYTES = (64 * 256 + 256 * 512 + 32) * 4;

/** The regions of one thread's scratch block starting at byte `base`. */
export function simdScratchAt(base: number): SimdScratch {
  return { packA: base, packB: base + 64 * 256 * 4, tile: base + (64 * 256 + 256 * 512) * 4 };
}

export type Kernel4x8 = (kc: number, a: number, b: number, c: number, ldc: number) => void;

/**
 * float32 GEMM whose micro-kernel is WebAssembly SIMD (wasm/gemm-f32.wat): the same GotoBLAS blocking as the
 * TypeScript kernel, with A packed into 4-row panels and B into 8-column panels of float32 in the heap, and the
 * 4×8 tile accumulated in eight f32x4 registers. float64, small products and arrays outside the heap go to
 * `fallback`. Self-contained, like makeGemm, so worker threads build it from its source text.
 */
export function makeSimdGemm(memory: WebAssembly.Memory, kernel: Kernel4x8, scratch: SimdScratch, fallback: Gemm): Gemm {
  const MR = 4;
  const NR = 8;
  const KC = 256;
  const MC = 64;
  const NC = 512;

  return function gemm(M, N, K, A, aOff, aRs, aCs, B, bOff, bRs, bCs, C, cOff, ldc, accumulate, direct) {
    const heap = memory.buffer;
    if (direct || !(A instanceof Float32Array) || A.buffer !== heap || B.buffer !== heap || C.buffer !== heap || K === 0) {
      fallback(M, N, K, A, aOff, aRs, aCs, B, bOff, bRs, bCs, C, cOff, ldc, accumulate, direct);
      return;
    }
    if (M === 0 || N === 0) return;
    if (!accumulate) for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
    const f32 = new Float32Array(heap);
    const cBase = C.byteOffset + cOff * 4;
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        pack(f32, scratch.packB, B as Float32Array, bOff + pc * bRs + jc * bCs, bCs, bRs, nc, kc, NR);
        for (let ic = 0; ic < M; ic += MC) {
          const mc = Math.min(MC, M - ic);
          pack(f32, scratch.packA, A as Float32Array, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc, MR);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = Math.min(MR, mc - ir);
            for (let jr = 0; jr < nc; jr += NR) {
              const cols = Math.min(NR, nc - jr);
              const a = scratch.packA + ir * kc * 4;
              const b = scratch.packB + jr * kc * 4;
              const c = cBase + ((ic + ir) * ldc + jc + jr) * 4;
              if (rows === MR && cols === NR) kernel(kc, a, b, c, ldc);
              else edgeTile(f32, kc, a, b, c >> 2, ldc, rows, cols);
            }
          }
        }
      }
    }
  };

  /** A partial tile: the kernel adds into a zeroed 4×8 scratch tile, then the valid part is added to C. */
  function edgeTile(f32: Float32Array, kc: number, a: number, b: number, c: number, ldc: number, rows: number, cols: number): void {
    const t = scratch.tile >> 2;
    f32.fill(0, t, t + MR * NR);
    kernel(kc, a, b, scratch.tile, NR);
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) f32[c + r * ldc + j] += f32[t + r * NR + j];
  }

  /** Packs into float32 panels `width` wide at byte `at` of the heap (see the TypeScript kernel's `pack`). */
  function pack(f32: Float32Array, at: number, src: Float32Array, off: number, across: number, along: number, count: number, kc: number, width: number): void {
    let o = at >> 2;
    for (let q0 = 0; q0 < count; q0 += width) {
      const valid = Math.min(width, count - q0);
      for (let p = 0; p < kc; p++) {
        const base = off + q0 * across + p * along;
        for (let i = 0; i < width; i++) f32[o++] = i < valid ? src[base + i * across] : 0;
      }
    }
  }
}

/** Compiles the micro-kernel module and instantiates it over `memory`; null where SIMD or shared memory is missing. */
export function instantiateKernel(module: WebAssembly.Module, memory: WebAssembly.Memory): Kernel4x8 | null {
  try {
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return instance.exports.kernel4x8 as Kernel4x8;
  } catch {
    return null;
  }
}

export type { FloatArray };
