import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WebGpuBackend } from '@siftjs/backend-webgpu';
import { describe, expect, it } from 'vitest';
import { contractMethods, delegationFaults, delegations } from '../support/backend-layout.js';

/**
 * The WebGPU backend's layout (issue 18): every method of the Backend contract — read from the interface's own
 * source, so a method added there is checked here without anyone listing it — is the function of the same name
 * in `src/kernels/<method>.ts`, and `src/backend.ts` only hands each call to it (its kernel table, delegateKernels).
 */
const root = join(__dirname, '..', '..');
const src = join(root, 'packages', 'backend-webgpu', 'src');
const kernels = join(src, 'kernels');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

const methods = contractMethods();
const implemented = methods.filter((m) => !m.optional || typeof (WebGpuBackend.prototype as unknown as Record<string, unknown>)[m.name] === 'function');
const backendSource = readFileSync(join(src, 'backend.ts'), 'utf8');

describe('the WebGPU backend has one kernel file per Backend method', () => {
  it('the contract is read from the interface: its known methods are there, each once', () => {
    const names = methods.map((m) => m.name);
    for (const known of ['info', 'alloc', 'read', 'matmul', 'softmax', 'layerNorm', 'scatterAddRows', 'adamwIncrement']) expect(names).toContain(known);
    expect(names.filter((n) => n === 'readSync' || n === 'sampledMatmul' || n === 'init').length, 'optional methods are read too').toBe(3);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(implemented.map((m) => m.name))('%s: src/kernels/<method>.ts exports the function of that name', (name) => {
    const file = join(kernels, `${name}.ts`);
    expect(existsSync(file), `packages/backend-webgpu/src/kernels/${name}.ts`).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`^export (async )?function ${name}\\(`, 'm'));
  });

  it('an optional method the backend leaves out has no kernel file', () => {
    for (const m of methods.filter((x) => !implemented.includes(x))) expect(existsSync(join(kernels, `${m.name}.ts`)), m.name).toBe(false);
  });

  it.each(implemented.map((m) => m.name))('%s: backend.ts delegates to kernels/<method>.ts and does nothing else', (name) => {
    // A kernel-table entry, or (info, which takes the backend's name) a method whose body is one call of the kernel.
    expect(delegationFaults(join(src, '..'), methods.filter((m) => m.name === name))).toEqual([]);
    const d = delegations(join(src, '..')).get(name);
    if (d?.via === 'method') expect(backendSource, `backend.ts's ${name}`).toMatch(new RegExp(`\\n {2}${name}\\([^)]*\\)[^\\n]* \\{\\n {4}(return )?${name}\\(this\\.rt(, [\\w.]+)*\\);\\n {2}\\}\\n`));
  });

  it('each file directly in src/kernels is a contract method or a neighbour named after one (shared code is in kernels/shared)', () => {
    const names = new Set(methods.map((m) => m.name));
    const top = readdirSync(kernels).filter((f) => !statSync(join(kernels, f)).isDirectory());
    const strays = top.filter((f) => !names.has(f.split(/[.-]/)[0]));
    expect(strays).toEqual([]);
  });

  it('one name per kernel: only kernels/<method>.ts exports a function named after a contract method', () => {
    const sources = filesUnder(src).map((f) => ({ file: relative(src, f), text: readFileSync(f, 'utf8') }));
    for (const { name } of methods) {
      const exporters = sources.filter((s) => new RegExp(`^export (async )?function ${name}\\(`, 'm').test(s.text)).map((s) => s.file);
      expect(exporters, name).toEqual(implemented.some((m) => m.name === name) ? [join('kernels', `${name}.ts`)] : []);
    }
  });
});
