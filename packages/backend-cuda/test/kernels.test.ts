import type { BinaryOp, DType, ReduceOp, UnaryOp } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as K from '../src/kernels/index.js';
import { type CompileResult, NVCC, NVCC_SKIP, type Unit, compilePtx, requireNvccUnderCi } from './nvcc.js';

const ALL: DType[] = ['float32', 'float64', 'int32', 'bool', 'float16', 'bfloat16'];
const FLOATS: DType[] = ['float32', 'float64'];
/** float16 / bfloat16: stored as 16-bit patterns, widened to float on load, rounded once on store (kernels/half.cu.ts). */
const HALVES: DType[] = ['float16', 'bfloat16'];
const UNARY: UnaryOp[] = ['neg', 'abs', 'sign', 'exp', 'log', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'erf', 'gelu', 'geluTanh', 'silu', 'square', 'reciprocal', 'floor', 'not', 'isnan'];
const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or'];
const REDUCE: ReduceOp[] = ['sum', 'max', 'min'];

/** Every template at several dtypes and ranks (ranks 1, a middle one, and the maximum 6). */
function allKernels(): K.KernelSource[] {
  const ks: K.KernelSource[] = [];
  for (const d of ALL) {
    for (const op of UNARY) for (const r of d === 'float32' ? [1, 3, 6] : [1]) ks.push(K.unaryKernel(op, d, r));
    for (const op of BINARY) for (const r of d === 'float32' ? [1, 4, 6] : [6]) ks.push(K.binaryKernel(op, d, r));
    for (const r of [1, 3, 6]) ks.push(K.whereKernel(d, r));
    for (const to of ALL) for (const r of [1, 6]) ks.push(K.castKernel(d, to, r));
    ks.push(K.fillKernel(d));
    for (const op of REDUCE) for (const [k, r] of [[1, 1], [3, 2], [6, 6]]) ks.push(K.reduceKernel(op, d, k, r));
    for (const op of ['argmax', 'argmin'] as const) for (const k of [1, 5]) ks.push(K.argReduceKernel(op, d, k));
    ks.push(K.gatherRowsKernel(d));
    if (d !== 'bool') ks.push(K.scatterAddRowsKernel(d), K.scatterFlatKernel(d, 'add'));
    ks.push(K.scatterFlatKernel(d, 'set'));
    for (const r of [1, 6]) ks.push(K.gatherFlatKernel(d, r), K.topkAbsKernel(d, r));
  }
  for (const d of [...FLOATS, ...HALVES]) {
    for (const log of [false, true]) ks.push(K.softmaxKernel(d, log), K.softmaxBackwardKernel(d, log));
    for (const centred of [false, true]) {
      for (const weight of [false, true]) {
        for (const bias of [false, true]) ks.push(K.layerNormKernel(d, { centred, weight, bias }));
        ks.push(K.layerNormBackwardKernel(d, { centred, weight }));
      }
      ks.push(K.layerNormBackwardParamsKernel(d, centred));
    }
    ks.push(K.adamwKernel(d));
  }
  for (const d of FLOATS) {
    // SIFT's state is float32 or float64; the parameter it writes may be half
    for (const p of [...FLOATS, ...HALVES]) ks.push(K.adamwIncrementKernel(d, p));
    for (const kind of ['uniform', 'normal'] as const) ks.push(K.randomKernel(kind, d));
  }
  return ks;
}

/**
 * Packs many self-contained sources into one translation unit, each in its own namespace (their preludes
 * repeat the same helpers), so nvcc runs a few times rather than hundreds. The extern "C" entry names are
 * unique, so every kernel keeps its .entry in the PTX.
 */
function batch(ks: K.KernelSource[], parts: number, options: string[]): Unit[] {
  const chunks: K.KernelSource[][] = Array.from({ length: parts }, () => []);
  ks.forEach((k, i) => chunks[i % parts].push(k));
  return chunks
    .filter((c) => c.length)
    .map((c, i) => ({ name: `batch_${options.length ? 'nofma' : 'default'}_${i}`, source: c.map((k, j) => `namespace u${j} {\n${k.source}\n}\n`).join('\n') }));
}

describe('generated kernel sources', () => {
  const kernels = allKernels();

  it('names are unique C identifiers and every source defines its entry point', () => {
    const names = kernels.map((k) => k.name);
    expect(new Set(names).size).toBe(names.length);
    for (const k of kernels) {
      expect(k.name).toMatch(/^[A-Za-z_]\w*$/);
      expect(k.source).toContain(`extern "C" __global__ void ${k.name}(`);
      expect(k.source).not.toMatch(/#include/);
    }
  });

  it('templates reject what they cannot do', () => {
    expect(() => K.unaryKernel('neg', 'float32', 7)).toThrow(/rank 7/);
    expect(() => K.softmaxKernel('int32', false)).toThrow(/float/);
    expect(() => K.scatterAddRowsKernel('bool')).toThrow(/bool/);
    expect(() => K.randomKernel('normal', 'int32')).toThrow(/float/);
    expect(() => K.randomKernel('uniform', 'bfloat16')).toThrow(/float32 or float64 only, got bfloat16/);
    expect(() => K.adamwIncrementKernel('float16', 'float32')).toThrow(/state is float32 or float64, got float16/);
  });

  it('the Geo block layout matches its C struct', () => {
    expect(K.GEO_BYTES).toBe(8 * (6 + 4 * 6 + 4));
    expect(K.PRELUDE).toContain(K.GEO_STRUCT);
  });

  describe.skipIf(!NVCC)(`compile to PTX with the local nvcc (sm_90)${NVCC_SKIP ? ` — skipped: ${NVCC_SKIP}` : ''}`, () => {
    let ptxOk: Map<string, CompileResult>;
    const plain = kernels.filter((k) => k.options.length === 0);
    const nofma = kernels.filter((k) => k.options.length > 0);
    // A few sources exactly as NVRTC will get them (no namespace wrapper), beside the batches.
    const exact = [
      K.unaryKernel('gelu', 'float32', 6),
      K.reduceKernel('sum', 'int32', 3, 2),
      K.layerNormKernel('float64', { centred: true, weight: true, bias: true }),
      K.randomKernel('normal', 'float32'),
      K.scatterFlatKernel('bfloat16', 'add'),
      K.castKernel('float64', 'float16', 2),
    ];

    beforeAll(async () => {
      // Two nvcc processes at a time (two cores): the no-FMA batch and the exact sources ride with the second.
      const halves = batch(plain, 2, []);
      const [a, b] = await Promise.all([
        compilePtx(halves.slice(0, 1)),
        compilePtx(halves.slice(1)).then(async (r) => new Map([...r, ...(await compilePtx([...batch(nofma, 1, ['--fmad=false']), ...exact.map((k) => ({ name: `exact_${k.name}`, source: k.source }))], ['--fmad=false']))])),
      ]);
      ptxOk = new Map([...a, ...b]);
    }, 120_000);

    it(`all ${kernels.length} kernels compile (in batches)`, () => {
      const failed = [...ptxOk].filter(([, r]) => !r.ok);
      expect(failed.map(([n, r]) => `${n}:\n${r.log.slice(0, 3000)}`).join('\n')).toBe('');
      expect(ptxOk.size).toBe(2 + 1 + exact.length);
      const entries = new Set([...ptxOk.values()].flatMap((r) => [...(r.ptx ?? '').matchAll(/\.entry\s+(\w+)\s*\(/g)].map((m) => m[1])));
      const missing = kernels.map((k) => k.name).filter((n) => !entries.has(n));
      expect(missing).toEqual([]);
    });
  });

  it('nvcc is present under CI', () => {
    requireNvccUnderCi();
  });
});
