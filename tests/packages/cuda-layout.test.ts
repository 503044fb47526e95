import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CudaBackend } from '../../packages/backend-cuda/src/backend.js';
import { contractMethods, delegationFaults, delegations } from '../support/backend-layout.js';

/**
 * The CUDA backend's layout (docs/backends.md): each method of the Backend contract is one file named after it,
 * src/kernels/<method>.ts, exporting a function of that name; src/backend.ts only delegates to them (its kernel
 * table, installed by delegateKernels). The method
 * names are read from the contract's own source, so a method added there fails this test until its file exists.
 */

const root = join(__dirname, '..', '..');
const CUDA = join(root, 'packages', 'backend-cuda', 'src');
const KERNELS = join(CUDA, 'kernels');

const methods = contractMethods();
const implemented = (name: string) => typeof (CudaBackend.prototype as unknown as Record<string, unknown>)[name] === 'function';
const own = methods.filter((m) => !m.optional || implemented(m.name));
const backendSource = readFileSync(join(CUDA, 'backend.ts'), 'utf8');

describe('backend-cuda layout: one file per contract method', () => {
  it('reads the contract (its methods, optional ones marked)', () => {
    const names = methods.map((m) => m.name);
    for (const anchor of ['alloc', 'matmul', 'softmax', 'layerNorm', 'scatterAddRows', 'adamwIncrement']) expect(names).toContain(anchor);
    expect(methods.find((m) => m.name === 'readSync')?.optional).toBe(true);
    expect(methods.length).toBeGreaterThanOrEqual(30);
  });

  it('implements every required method', () => {
    expect(methods.filter((m) => !m.optional && !implemented(m.name)).map((m) => m.name)).toEqual([]);
  });

  it.each(own.map((m) => m.name))('%s has its file src/kernels/<method>.ts, exporting a function of that name', (name) => {
    const file = join(KERNELS, `${name}.ts`);
    expect(existsSync(file), `packages/backend-cuda/src/kernels/${name}.ts`).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`^export (async )?function ${name}\\(dev: CudaDevice\\b`, 'm'));
  });

  it('an optional method it does not implement has no file', () => {
    for (const m of methods.filter((x) => x.optional && !implemented(x.name))) expect(existsSync(join(KERNELS, `${m.name}.ts`)), m.name).toBe(false);
  });

  it('every file in src/kernels/ is a contract method, its CUDA C (<method>.cu.ts), or the shared C pieces', () => {
    const names = new Set(methods.map((m) => m.name));
    const shared = new Set(['common.cu.ts', 'half.cu.ts', 'map.cu.ts', 'index.ts']);
    const stray = readdirSync(KERNELS).filter((f) => !shared.has(f) && !names.has(f.replace(/(\.cu)?\.ts$/, '')));
    expect(stray).toEqual([]);
  });

  it('backend.ts is a delegation table: each method is its kernel file’s function, in the table delegateKernels installs', () => {
    expect(delegationFaults(join(CUDA, '..'), own)).toEqual([]);
    for (const { name } of own) expect(delegations(join(CUDA, '..')).get(name)?.via, name).toBe('table');
    // Nothing else in the class: its members are the name, the device, the constructor, emptyCache and the static
    // block that installs the table.
    const cls = /^export class CudaBackend implements Backend \{\n([\s\S]*?)^\}/m.exec(backendSource);
    expect(cls, 'export class CudaBackend implements Backend').not.toBeNull();
    const members = cls![1].split('\n').filter((l) => /^ {2}\S/.test(l) && !/^ {2}(\}|\/\*\*|\*|\/\/)/.test(l));
    expect(members).toEqual([
      "  readonly name = 'cuda';",
      '  private readonly dev: CudaDevice;',
      '  constructor(opts: CudaBackendOptions = {}) {',
      '  emptyCache() {',
      '  static {',
    ]);
    expect(backendSource).toContain('delegateKernels(CudaBackend, (b) => b.dev, kernels);');
    expect(backendSource).not.toMatch(/\b(launch|koffi|cuLaunchKernel|cublas\w*|F\.)\(/);
  });
});
