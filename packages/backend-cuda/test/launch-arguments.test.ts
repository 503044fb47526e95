import { createRequire } from 'node:module';
import { type AdamWIncrementArgs, type BackendStorage, type DType, type NormForward, type View, adamwConstants } from '@siftjs/tensor';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Arg } from '../src/geometry.js';
import { CUBLAS_COMPUTE_32F, CUDA_R_16BF, CUDA_R_16F, CUDA_R_32F } from '../src/ffi.js';
import { GEO_BYTES } from '../src/kernels/common.cu.js';
import { type FakeDevice, type Launch, fakeDevice } from './fake-device.js';

/**
 * No GPU runs here, so the one thing that can silently go wrong between a kernel's C and its launcher is checked
 * on the host: with the driver replaced by a recording fake, every contract method that launches a kernel is
 * called, and each launch's packed argument list is held against the C parameter list of the kernel it launches
 * (count, and each parameter's kind: pointer, i64, int, u32, double, the Geo block), its block size against the
 * kernel's shared-memory arrays, and its entry point's name against the method (one name per kernel).
 */

const koffi = createRequire(import.meta.url)('koffi');
(globalThis as { __cudaFake?: FakeDevice }).__cudaFake = fakeDevice(koffi);
const fake = (globalThis as { __cudaFake?: FakeDevice }).__cudaFake!;

vi.mock('../src/libraries.js', async (orig) => ({
  ...(await orig<object>()),
  loadLibraries: () => (globalThis as { __cudaFake?: FakeDevice }).__cudaFake!.libraries,
}));
vi.mock('../src/compiler.js', async (orig) => ({
  ...(await orig<object>()),
  // The launch gets the KernelSource itself as its CUfunction, so the fake knows what was launched.
  KernelCompiler: class {
    size = 0;
    get(k: unknown) {
      return k;
    }
  },
}));
vi.mock('../src/geometry.js', async (orig) => {
  const m = await orig<typeof import('../src/geometry.js')>();
  return {
    ...m,
    packArgs: (args: Arg[]) => {
      (globalThis as { __cudaFake?: FakeDevice }).__cudaFake!.pendingArgs = args;
      return m.packArgs(args);
    },
  };
});

/** 'const float* __restrict__ x' → the Arg kind a launch must pass for it. */
function argKind(param: string): Arg['t'] {
  const p = param.replace(/__restrict__/g, '').trim();
  if (p.includes('*')) return 'ptr';
  const type = p.replace(/^const\s+/, '').split(/\s+/)[0];
  const kinds: Record<string, Arg['t']> = { i64: 'i64', 'long long': 'i64', double: 'f64', u32: 'u32', int: 'i32', Geo: 'bytes' };
  const kind = kinds[type];
  if (!kind) throw new Error(`unknown kernel parameter type in '${param}'`);
  return kind;
}

/** The parameter list of the kernel's extern "C" entry point, from its source. */
function cParams(l: Launch): string[] {
  const m = new RegExp(`extern "C" __global__ void ${l.kernel.name}\\(([^)]*)\\)`).exec(l.kernel.source);
  if (!m) throw new Error(`${l.kernel.name}: entry point not found in its source`);
  return m[1].split(',').map((s) => s.replace(/\s+/g, ' ').trim());
}

/** The contract methods whose kernels a method may launch besides its own (copies of index views, the values of top-k). */
const BORROWS: Record<string, string[]> = {
  copy: ['cast'],
  copyInto: ['cast'],
  matmul: ['cast'],
  gatherRows: ['cast'],
  scatterAddRows: ['cast'],
  gatherFlat: ['cast'],
  scatterFlat: ['cast'],
  topkAbs: ['gatherFlat'],
};

const contiguous = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
const view = (storage: BackendStorage, dtype: DType, shape: number[], strides = contiguous(shape), offset = 0): View => ({ storage, dtype, shape, strides, offset });

describe('kernel launches match their kernels (a recording fake driver, no GPU)', () => {
  const calls: { method: string; launches: Launch[] }[] = [];
  /** The events of the half matmul calls. */
  const halfGemms = { from: 0, to: 0 };
  /** The half layer norm's and RMS norm's forward results (their statistics). */
  const halfNorms: NormForward[] = [];

  beforeAll(async () => {
    const { CudaBackend } = await import('../src/backend.js');
    const b = new CudaBackend();
    await b.init();
    const call = (method: string, f: () => unknown) => {
      const from = fake.events.length;
      f();
      calls.push({ method, launches: fake.events.slice(from).filter((e): e is Launch => e.kind === 'launch') });
    };
    const f32 = b.upload('float32', Float32Array.from({ length: 24 }, (_, i) => i - 7.5));
    const f64 = b.upload('float64', Float64Array.from({ length: 24 }, (_, i) => i / 4));
    const ids = b.upload('int32', Int32Array.from([3, 0, 2, 1, 5, 4]));
    const bools = b.upload('bool', Uint8Array.from([1, 0, 1, 1, 0, 0]));
    const x = view(f32, 'float32', [2, 3, 4]);
    const xt = view(f32, 'float32', [4, 3, 2], [1, 4, 12]);
    const xd = view(f64, 'float64', [4, 6]);
    for (const dtype of ['float32', 'float64', 'int32', 'bool'] as const) call('fill', () => b.fill(dtype, 7, 2.5));
    call('copy', () => b.copy(xt));
    call('copyInto', () => b.copyInto(view(b.alloc('float32', 24), 'float32', [3, 4], [1, 3], 2), view(f32, 'float32', [3, 4], [4, 1], 5)));
    call('cast', () => b.cast(xt, 'int32'));
    for (const op of ['neg', 'gelu', 'not', 'isnan'] as const) call('unary', () => b.unary(op, xt));
    call('binary', () => b.binary('add', x, view(f32, 'float32', [2, 3, 4], [0, 4, 1], 1)));
    call('binary', () => b.binary('lt', xd, view(f64, 'float64', [4, 6], [0, 1])));
    call('where', () => b.where(view(bools, 'bool', [2, 3]), view(f32, 'float32', [2, 3], [3, 1], 4), view(f32, 'float32', [2, 3], [0, 1])));
    call('reduce', () => b.reduce('sum', x, [1]));
    call('reduce', () => b.reduce('max', xt, [0, 2]));
    call('argReduce', () => b.argReduce('argmax', xt, 1));
    call('matmul', () => b.matmul(view(f32, 'float32', [2, 2, 3, 2], [1, 12, 2, 6]), view(f32, 'float32', [2, 2, 2, 2], [8, 1, 4, 2])));
    for (const log of [false, true]) {
      call('softmax', () => b.softmax(xd, 6, log));
      call('softmaxBackward', () => b.softmaxBackward(x, x, 4, log));
    }
    const w = view(f32, 'float32', [4], [1], 3);
    const ln = b.layerNorm(x, w, view(f32, 'float32', [4], [1], 8), 4, 1e-5);
    call('layerNorm', () => b.layerNorm(xd, null, null, 6, 1e-6));
    const rn = b.rmsNorm(x, w, 4, 1e-6);
    call('rmsNorm', () => b.rmsNorm(x, w, 4, 1e-6));
    const all = { input: true, weight: true, bias: true };
    call('layerNormBackward', () => b.layerNormBackward(x, x, w, ln, 4, all));
    call('layerNormBackward', () => b.layerNormBackward(x, x, null, ln, 4, { input: false, weight: false, bias: true }));
    call('rmsNormBackward', () => b.rmsNormBackward(x, x, w, rn, 4, all));
    call('gatherRows', () => b.gatherRows(view(f32, 'float32', [6, 4]), view(ids, 'int32', [3], [2])));
    call('scatterAddRows', () => b.scatterAddRows(6, view(ids, 'int32', [6]), view(f32, 'float32', [6, 4])));
    call('gatherFlat', () => b.gatherFlat(xt, view(ids, 'int32', [6])));
    for (const mode of ['set', 'add'] as const) call('scatterFlat', () => b.scatterFlat(b.alloc('float32', 8), 'float32', view(ids, 'int32', [4]), view(f32, 'float32', [4]), mode));
    call('topkAbs', () => b.topkAbs(xt, 5));
    for (const [kind, dtype] of [['uniform', 'float32'], ['normal', 'float32'], ['uniform', 'float64'], ['normal', 'float64']] as const) call('random', () => b.random(kind, dtype, 10, [1, 2], 2 ** 33 + 5));
    const k4 = () => b.alloc('float64', 4);
    call('adamw', () => b.adamw(k4(), k4(), k4(), k4(), 'float64', 4, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 }));
    const c = adamwConstants({ lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, step: 2 });
    const inc = (steps: BackendStorage | null): AdamWIncrementArgs => ({ param: f32, paramDtype: 'float32', paramSize: 24, indices: ids, base: k4(), delta: k4(), grad: k4(), m: k4(), v: k4(), steps, dtype: 'float64', k: 4, c });
    call('adamwIncrement', () => b.adamwIncrement(inc(null)));
    call('adamwIncrement', () => b.adamwIncrement(inc(k4())));

    // float16 / bfloat16: every method that takes them, with odd offsets and transposed views
    const pattern = (n: number) => Uint16Array.from({ length: n }, (_, i) => 0x3c00 + 17 * i);
    const h16 = b.upload('float16', pattern(25));
    const hb = b.upload('bfloat16', pattern(25));
    const xh = view(h16, 'float16', [2, 3, 4], [12, 4, 1], 1);
    const xht = view(hb, 'bfloat16', [4, 3, 2], [1, 4, 12], 1);
    for (const dtype of ['float16', 'bfloat16'] as const) call('fill', () => b.fill(dtype, 7, 1 / 3));
    call('copy', () => b.copy(xht));
    call('copyInto', () => b.copyInto(view(b.alloc('float16', 24), 'float16', [3, 4], [1, 3], 1), view(h16, 'float16', [3, 4], [4, 1], 1)));
    call('cast', () => b.cast(xt, 'float16'));
    call('cast', () => b.cast(xh, 'bfloat16'));
    call('cast', () => b.cast(view(ids, 'int32', [6]), 'bfloat16'));
    call('unary', () => b.unary('exp', xh));
    call('binary', () => b.binary('mul', xht, view(hb, 'bfloat16', [4, 3, 2], [0, 2, 1], 3)));
    call('where', () => b.where(view(bools, 'bool', [2, 3]), view(h16, 'float16', [2, 3], [3, 1], 1), view(h16, 'float16', [2, 3], [0, 1])));
    call('reduce', () => b.reduce('sum', xh, [2]));
    call('argReduce', () => b.argReduce('argmin', xht, 0));
    halfGemms.from = fake.events.length;
    call('matmul', () => b.matmul(view(h16, 'float16', [3, 4], [4, 1], 1), view(h16, 'float16', [4, 2], [1, 4])));
    call('matmul', () => b.matmul(view(hb, 'bfloat16', [2, 3, 4], [12, 4, 1], 1), view(hb, 'bfloat16', [2, 4, 3], [12, 1, 4])));
    call('matmul', () => b.matmul(view(f32, 'float32', [3, 4]), view(hb, 'bfloat16', [4, 2], [1, 4], 1)));
    halfGemms.to = fake.events.length;
    call('softmax', () => b.softmax(view(h16, 'float16', [4, 6]), 6, true));
    call('softmaxBackward', () => b.softmaxBackward(view(hb, 'bfloat16', [4, 6]), view(hb, 'bfloat16', [4, 6], [6, 1], 1), 6, false));
    const wh = view(hb, 'bfloat16', [4], [1], 3);
    const lnh = b.layerNorm(view(hb, 'bfloat16', [6, 4]), wh, view(hb, 'bfloat16', [4], [1], 7), 4, 1e-5);
    call('layerNorm', () => b.layerNorm(view(h16, 'float16', [6, 4]), null, null, 4, 1e-5));
    const rnh = b.rmsNorm(view(h16, 'float16', [6, 4]), view(h16, 'float16', [4], [1], 1), 4, 1e-6);
    halfNorms.push(lnh, rnh);
    call('rmsNorm', () => b.rmsNorm(view(h16, 'float16', [6, 4]), null, 4, 1e-6));
    call('layerNormBackward', () => b.layerNormBackward(view(hb, 'bfloat16', [6, 4], [4, 1], 1), view(hb, 'bfloat16', [6, 4]), wh, lnh, 4, all));
    call('rmsNormBackward', () => b.rmsNormBackward(view(h16, 'float16', [6, 4]), view(h16, 'float16', [6, 4]), view(h16, 'float16', [4], [1], 1), rnh, 4, all));
    call('gatherRows', () => b.gatherRows(view(hb, 'bfloat16', [6, 4], [4, 1], 1), view(ids, 'int32', [3], [2])));
    call('scatterAddRows', () => b.scatterAddRows(6, view(ids, 'int32', [6]), view(h16, 'float16', [6, 4], [4, 1], 1)));
    call('gatherFlat', () => b.gatherFlat(xht, view(ids, 'int32', [6])));
    for (const mode of ['set', 'add'] as const) call('scatterFlat', () => b.scatterFlat(b.alloc('bfloat16', 9), 'bfloat16', view(ids, 'int32', [4]), view(hb, 'bfloat16', [4], [1], 1), mode));
    call('topkAbs', () => b.topkAbs(xh, 5));
    const h5 = () => b.alloc('bfloat16', 5);
    call('adamw', () => b.adamw(h5(), h5(), h5(), h5(), 'bfloat16', 5, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 }));
    const k32 = () => b.alloc('float32', 4);
    call('adamwIncrement', () => b.adamwIncrement({ param: h16, paramDtype: 'float16', paramSize: 25, indices: ids, base: k32(), delta: k32(), grad: k32(), m: k32(), v: k32(), steps: null, dtype: 'float32', k: 4, c }));
  });

  it('half matmuls go to cuBLAS as CUDA_R_16F / CUDA_R_16BF with FP32 compute; a float32 @ bfloat16 product casts the weight and runs in FP32', () => {
    const gemms = fake.events.slice(halfGemms.from, halfGemms.to).filter((e): e is { kind: 'gemm'; args: unknown[] } => e.kind === 'gemm');
    expect(gemms.length).toBe(3);
    // the fake records cublasGemmStridedBatchedEx's arguments after the handle: transa, transb, m, n, k, alpha, A,
    // Atype, lda, strideA, B, Btype, ldb, strideB, beta, C, Ctype, ldc, strideC, batch, compute, algo
    const types = gemms.map((g) => [g.args[7], g.args[11], g.args[16], g.args[20]]);
    expect(types).toEqual([
      [CUDA_R_16F, CUDA_R_16F, CUDA_R_16F, CUBLAS_COMPUTE_32F],
      [CUDA_R_16BF, CUDA_R_16BF, CUDA_R_16BF, CUBLAS_COMPUTE_32F],
      [CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F],
    ]);
    const mixed = calls.filter((c) => c.method === 'matmul').at(-1)!;
    expect(mixed.launches.map((l) => l.kernel.name)).toEqual(['cast_bf16_f32_r2']);
  });

  it('every kernel-launching contract method was exercised', () => {
    const launched = new Set(calls.filter((c) => c.launches.length).map((c) => c.method));
    const expected = ['fill', 'copy', 'copyInto', 'cast', 'unary', 'binary', 'where', 'reduce', 'argReduce', 'matmul', 'softmax', 'softmaxBackward', 'layerNorm', 'rmsNorm', 'layerNormBackward', 'rmsNormBackward', 'gatherRows', 'scatterAddRows', 'gatherFlat', 'scatterFlat', 'topkAbs', 'random', 'adamw', 'adamwIncrement'];
    expect([...launched].sort()).toEqual([...expected].sort());
  });

  it('each launch passes exactly its kernel’s parameters, in order and kind', () => {
    for (const { method, launches } of calls) {
      for (const l of launches) {
        const params = cParams(l);
        const where = `${method} → ${l.kernel.name}`;
        expect(l.args.map((a) => a.t), where).toEqual(params.map(argKind));
        l.args.forEach((a, i) => {
          if (a.t === 'bytes') expect(a.v.length, `${where}: ${params[i]}`).toBe(GEO_BYTES);
          if (a.t === 'i64' || a.t === 'i32' || a.t === 'u32') expect(Number.isInteger(a.v), `${where}: ${params[i]} = ${a.v}`).toBe(true);
          if (a.t === 'u32') expect(a.v >= 0 && a.v < 2 ** 32, `${where}: ${params[i]} = ${a.v}`).toBe(true);
        });
      }
    }
  });

  it('block reductions get a power-of-two block no larger than their shared arrays', () => {
    for (const { launches } of calls) {
      for (const l of launches) {
        for (const m of l.kernel.source.matchAll(/__shared__ \w+ \w+\[(\d+)\]/g)) {
          expect(l.block, l.kernel.name).toBeLessThanOrEqual(Number(m[1]));
          expect(Math.log2(l.block) % 1, `${l.kernel.name}: block ${l.block}`).toBe(0);
        }
        expect(l.grid, l.kernel.name).toBeGreaterThan(0);
        expect(l.grid, l.kernel.name).toBeLessThanOrEqual(65535);
      }
    }
  });

  it('a half x’s norm statistics are float32 storages, which the half norm kernels write and read as float', () => {
    const [ln, rn] = halfNorms;
    for (const s of [ln.mean, ln.rstd, rn.rstd]) expect((s as { dtype: DType }).dtype).toBe('float32');
    expect(rn.mean).toBeUndefined();
    const launches = calls.filter((c) => /^(layerNorm|rmsNorm)/.test(c.method)).flatMap((c) => c.launches);
    const half = launches.filter((l) => /_(f16|bf16)$/.test(l.kernel.name));
    // forward and backward (dx, then the parameter sums) of both norms, at both half formats
    expect(half.length).toBeGreaterThanOrEqual(6);
    for (const l of half) {
      const stats = cParams(l).filter((p) => /\b(mean|rstd)$/.test(p));
      expect(stats.length, l.kernel.name).toBe(2);
      for (const p of stats) expect(p.replace(/__restrict__ /g, ''), l.kernel.name).toMatch(/^(const )?float\* (mean|rstd)$/);
    }
  });

  it('a kernel’s entry point is named after the contract method it serves', () => {
    for (const { method, launches } of calls) {
      for (const l of launches) {
        const owner = l.kernel.name.split('_')[0];
        expect([method, ...(BORROWS[method] ?? [])], `${method} launched ${l.kernel.name}`).toContain(owner);
      }
    }
  });
});
