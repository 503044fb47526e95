import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contractKernels, contractMethods, delegationFaults, missingKernelFiles } from '../support/backend-layout.js';

const packages = join(__dirname, '..', '..', 'packages');

/** Backend packages held to the layout of issue 18 (each also has its own checks: webgpu-layout, cuda-layout). */
const LAID_OUT = ['backend-cpu', 'backend-webgpu', 'backend-cuda'];

describe('the Backend contract as the layout test reads it', () => {
  it('finds the kernels in the interface source, the storage methods apart', () => {
    const kernels = contractKernels().map((k) => k.name);
    // Spot checks against the contract's text, not the list itself: the named kernels of issue 18 are kernels,
    // storage is not, and an optional kernel is marked so.
    expect(kernels).toEqual(expect.arrayContaining(['softmax', 'layerNorm', 'matmul', 'scatterAddRows']));
    expect(kernels).not.toContain('alloc');
    expect(contractMethods().find((m) => m.name === 'sampledMatmul')?.optional).toBe(true);
  });

  it('reads a kernel added to the contract as a file every backend lacks', () => {
    const source = 'export interface Backend {\n  info(): void;\n  // ---- storage ----\n  free(): void;\n  // ---- fused ----\n  flashAttention(): void;\n}\n';
    expect(contractKernels(source).map((k) => k.name)).toEqual(['flashAttention']);
    expect(missingKernelFiles(join(packages, 'backend-cpu'), contractKernels(source))).toEqual(['flashAttention']);
  });
});

describe('the contract split: primitives required, fused kernels optional with a reference from primitives', () => {
  /** The optional kernel whose absence the op answers with another path, not a composition (backend.ts says why). */
  const NO_FALLBACK = new Set(['sampledMatmul']);

  it('requires the primitives and marks the fused kernels optional', () => {
    const required = contractKernels().filter((k) => !k.optional).map((k) => k.name);
    const optional = contractKernels().filter((k) => k.optional).map((k) => k.name);
    // Spot checks of issue 18's list: scatter/gather/matmul/reduce/elementwise/cast/copy/fill/random are primitives;
    // softmax, the norms, the SIFT step, AdamW and top-k are fused.
    expect(required).toEqual(expect.arrayContaining(['matmul', 'reduce', 'unary', 'binary', 'where', 'cast', 'copy', 'fill', 'random', 'gatherFlat', 'scatterFlat']));
    expect(optional).toEqual(expect.arrayContaining(['softmax', 'layerNorm', 'rmsNormBackward', 'adamwIncrement', 'adamw', 'topkAbs', 'sampledMatmul']));
  });

  it('has packages/tensor/src/fallbacks/<method>.ts for every optional kernel', () => {
    const missing = contractKernels()
      .filter((k) => k.optional && !NO_FALLBACK.has(k.name))
      .map((k) => k.name)
      .filter((name) => !existsSync(join(packages, 'tensor', 'src', 'fallbacks', `${name}.ts`)));
    expect(missing).toEqual([]);
  });
});

describe.each(LAID_OUT)('%s', (dir) => {
  it('has src/kernels/<method>.ts for every kernel of the Backend contract', () => {
    expect(missingKernelFiles(join(packages, dir))).toEqual([]);
  });

  it("src/backend.ts forwards every kernel to the function of its name in './kernels/<method>.js'", () => {
    expect(delegationFaults(join(packages, dir))).toEqual([]);
  });
});
