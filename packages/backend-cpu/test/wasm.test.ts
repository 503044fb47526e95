import { describe, expect, it } from 'vitest';
import { wasmBinaries } from '../src/kernels/wasm-binaries.generated.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { assembleAll } from '../scripts/build-wasm.mjs';
import { CpuBackend } from '../src/backend.js';

describe('WebAssembly kernels', () => {
  it('the committed binaries are exactly what the .wat sources assemble to (run npm run build:wasm after editing them)', async () => {
    expect(await assembleAll()).toEqual(wasmBinaries);
  });

  it('the backend picks the SIMD kernel here and reports it; simd: false keeps the TypeScript one', async () => {
    const simd = new CpuBackend({ threads: 1 });
    const ts = new CpuBackend({ threads: 1, simd: false });
    expect(simd.info().kernels).toBe('wasm-simd');
    expect(ts.info().kernels).toBe('typescript');
    // Kernel scratch is reserved, not counted as tensor memory.
    expect(simd.memoryStats().bytesInUse).toBe(0);
    expect(simd.memoryStats().bytesReserved).toBeGreaterThan(0);
  });
});
