import type { FloatArray, Gemm } from './gemm.js';

/** Byte offsets in the heap of one thread's packing scratch (see SIMD_SCRATCH_BYTES). */
export interface SimdScratch {
  packA: number;
  packB: number;
  tile: number;
}

// Cache blocking, measured on the 2-core Zen 3 (32 KiB L1d, 512 KiB L2 per core) this was tuned on. These constants
// are repeated inside makeSimdGemm (which must be self-contained: worker threads build it from its source text).
const MC_ = 128;
const KC_ = 256;
const NC_ = 1024;

/** Bytes of scratch one thread needs: an MC×KC block of A, a KC×NC panel of B and one 4×8 tile (float32). */
export const SIMD_SCRATCH_BYTES = (MC_ * KC_ + KC_ * NC_ + 32) * 4;

/** The regions of one thread's scratch block starting at byte `base`. */
export function simdScratchAt(base: number): SimdScratch {
  return { packA: base, packB: base + MC_ * KC_ * 4, tile: base + (MC_ * KC_ + KC_ * NC_) * 4 };
}

/** The exports of wasm/gemm-f32.wat (byte offsets into the heap; strides in elements). */
export interface SimdKernels {
  /** C[mc×nc] (add ? += : =) packed A block · packed B panel; partial tiles through the 4×8 tile at `tmp`. */
  block(mc: number, nc: number, kc: number, packA: number, packB: number, c: number, ldc: number, add: number, tmp: number): void;
  /** Packs element (q, p) = src[q·across + p·along] into panels `width` (4 or 8) wide at `dst`. */
  pack(src: number, across: number, along: number, count: number, kc: number, width: number, dst: number): void;
}

/**
 * float32 GEMM in WebAssembly SIMD (wasm/gemm-f32.wat): GotoBLAS/BLIS blocking — a KC×NC panel of B packed into
 * 8-column panels, an MC×KC block of A into 4-row panels (both packed by SIMD code that also handles transposed
 * operands), and the macro-kernel loops and the 4×8 micro-kernel in WebAssembly, so JavaScript makes one call per
 * block rather than one per tile. float64, small products and arrays outside the heap go to `fallback`.
 * Self-contained, like makeGemm, so worker threads build it from its source text.
 */
export function makeSimdGemm(memory: WebAssembly.Memory, kernels: SimdKernels, scratch: SimdScratch, fallback: Gemm): Gemm {
  const MR = 4;
  const NR = 8;
  /** Depth of a packed block; it alone fixes the summation order (one pass of the kernel per KC steps of k). */
  const KC = 256;
  /** Rows of a packed A block: MC·KC floats = 128 KiB, in L2 while each 8-column panel of B (8 KiB) sits in L1. */
  const MC = 128;
  /** Columns of a packed B panel: KC·NC floats = 1 MiB (L3), each 8-column panel of it read once per A block. */
  const NC = 1024;
  const { block, pack } = kernels;

  const gemm: Gemm = (M, N, K, A, aOff, aRs, aCs, B, bOff, bRs, bCs, C, cOff, ldc, accumulate, direct, packedB) => {
    const heap = memory.buffer;
    if (direct || !(A instanceof Float32Array) || A.buffer !== heap || B.buffer !== heap || C.buffer !== heap || K === 0) {
      fallback(M, N, K, A, aOff, aRs, aCs, B, bOff, bRs, bCs, C, cOff, ldc, accumulate, direct);
      return;
    }
    if (M === 0 || N === 0) return;
    const aBase = A.byteOffset + aOff * 4;
    const bBase = B.byteOffset + bOff * 4;
    const cBase = C.byteOffset + cOff * 4;
    const nPad = Math.ceil(N / NR) * NR;
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        const add = accumulate || pc > 0 ? 1 : 0;
        let panel = scratch.packB;
        if (packedB) panel = packedB + (pc * nPad + jc * kc) * 4;
        else pack(bBase + (pc * bRs + jc * bCs) * 4, bCs, bRs, nc, kc, NR, panel);
        for (let ic = 0; ic < M; ic += MC) {
          const mc = Math.min(MC, M - ic);
          pack(aBase + (ic * aRs + pc * aCs) * 4, aRs, aCs, mc, kc, MR, scratch.packA);
          block(mc, nc, kc, scratch.packA, panel, cBase + (ic * ldc + jc) * 4, ldc, add, scratch.tile);
        }
      }
    }
  };
  return gemm;
}

/** Bytes `prepackB` writes for a K×N operand: every K block of B packed whole, in 8-column panels. */
export function prepackedBytes(K: number, N: number): number {
  return K * Math.ceil(N / 8) * 8 * 4;
}

/**
 * Packs all of B (K×N, element (p, j) at byte bAt + 4·(p·bRs + j·bCs)) at byte `dst` in the layout the gemm reads
 * through `packedB`: one KC×N block after another, each in 8-column panels. Used when one product is split into
 * row blocks across threads, so B is packed once rather than once per block.
 */
export function prepackB(kernels: SimdKernels, K: number, N: number, bAt: number, bRs: number, bCs: number, dst: number): void {
  const nPad = Math.ceil(N / 8) * 8;
  for (let pc = 0; pc < K; pc += KC_) {
    kernels.pack(bAt + pc * bRs * 4, bCs, bRs, N, Math.min(KC_, K - pc), 8, dst + pc * nPad * 4);
  }
}

/** Instantiates the kernel module over `memory`; null where SIMD or shared memory is missing. */
export function instantiateKernel(module: WebAssembly.Module, memory: WebAssembly.Memory): SimdKernels | null {
  try {
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const { block, pack } = instance.exports as unknown as SimdKernels;
    return { block, pack };
  } catch {
    return null;
  }
}

export type { FloatArray };
