import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, runPage } from './serve.js';

/**
 * The CPU backend in a browser: in a cross-origin-isolated page (the only kind with SharedArrayBuffer) it runs the
 * WebAssembly SIMD kernels over shared memory with Web Workers, with the bits of one thread; elsewhere it runs on
 * one thread.
 */
const present = existsSync(CHROMIUM);

interface CpuPage {
  isolated?: boolean;
  threads?: number;
  kernels?: unknown;
  sameBits?: boolean;
  error?: string;
}

describe.runIf(present || process.env.CI === 'true')('the CPU backend in headless Chromium', () => {
  const entry = fileURLToPath(new URL('./page/cpu-threads.ts', import.meta.url));

  it('cross-origin isolated: WebAssembly SIMD on 2 threads (Web Workers), the same bits as 1 thread', { timeout: 120_000 }, async () => {
    const r = await runPage<CpuPage>(entry, { isolated: true });
    expect(r).toEqual({ isolated: true, threads: 2, kernels: 'wasm-simd', sameBits: true });
  });

  it('not isolated: one thread, chosen by itself (no workers without isolation), with the same bits', { timeout: 120_000 }, async () => {
    const r = await runPage<CpuPage>(entry, { isolated: false });
    // Chromium here still makes shared WebAssembly memory without isolation, so the SIMD kernels run; an engine
    // that refuses it gets the TypeScript kernels. Either way: one thread, and the backend works.
    expect(r).toMatchObject({ isolated: false, threads: 1, sameBits: true });
    expect(['wasm-simd', 'typescript']).toContain(r.kernels);
  });
});
