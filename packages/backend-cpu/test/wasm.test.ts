import { describe, expect, it } from 'vitest';
import { wasmBinaries } from '../src/kernels/wasm/binaries.generated.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { assembleAll } from '../scripts/build-wasm.mjs';
import { CpuBackend } from '../src/backend.js';
import { relaxedSimd } from '../src/runtime/relaxed-simd.js';

describe('WebAssembly kernels', () => {
  it('the committed binaries are exactly what the .wat sources assemble to (run npm run build:wasm after editing them)', async () => {
    expect(await assembleAll()).toEqual(wasmBinaries);
  });

  it('the backend picks the SIMD kernel here and reports it; simd: false keeps the TypeScript one', async () => {
    const simd = new CpuBackend({ threads: 1, blas: false });
    const ts = new CpuBackend({ threads: 1, simd: false, blas: false });
    expect(simd.info().kernels).toBe('wasm-simd');
    expect(ts.info().kernels).toBe('typescript');
    // Kernel scratch is reserved, not counted as tensor memory.
    expect(simd.memoryStats().bytesInUse).toBe(0);
    expect(simd.memoryStats().bytesReserved).toBeGreaterThan(0);
  });

  it.runIf(relaxedSimd())('where relaxed SIMD compiles, the matmul kernel fuses multiply-adds (one rounding); fma: false does not', () => {
    // Row i of A is [1, x], column j of B is [-(1 + 2⁻¹¹), x] with x = 1 + 2⁻¹²: x² = 1 + 2⁻¹¹ + 2⁻²⁴ needs 25 bits.
    // Fused, the second multiply-add keeps it whole and leaves 2⁻²⁴; unfused, x² rounds to 1 + 2⁻¹¹ and the sum is 0.
    // 256 × 2 × 256: large enough to take the SIMD kernel rather than the small-product path.
    const n = 256;
    const x = 1 + 2 ** -12;
    const a = new Float32Array(2 * n).map((_, i) => (i % 2 === 0 ? 1 : x));
    const b = new Float32Array(2 * n).map((_, i) => (i < n ? -(1 + 2 ** -11) : x));
    for (const [opts, expected] of [[{}, 2 ** -24], [{ fma: false }, 0]] as const) {
      const backend = new CpuBackend({ threads: 1, blas: false, ...opts });
      expect(backend.info().fma).toBe(!('fma' in opts));
      const av = { storage: backend.upload('float32', a), dtype: 'float32' as const, shape: [n, 2], strides: [2, 1], offset: 0 };
      const bv = { storage: backend.upload('float32', b), dtype: 'float32' as const, shape: [2, n], strides: [n, 1], offset: 0 };
      const out = backend.readSync(backend.matmul(av, bv), 'float32', n * n);
      expect(new Set(out)).toEqual(new Set([expected]));
    }
  });
});
