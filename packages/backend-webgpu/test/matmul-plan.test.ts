/**
 * The matmul plan (kernels/matmul-plan.ts) and each kernel it picks: scalar, vec4 with 4×4 and 8×8 outputs per
 * invocation, and split K. The plan is tested as a pure function; each kernel against float64 sums on shapes
 * the plan sends to it (asserted per case), on the adapter's limits and on the feature level's defaults.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MATMUL_TUNING,
  type KernelLimits,
  type MatmulPlan,
  type StridedOperand,
  type WebGpuBackendSettings,
  WebGpuBackend,
  chooseTile,
  chooseVec4Tile,
  matmulPlan,
} from '../src/index.js';
import { tileBytes } from '../src/kernels/matmul-plan.js';
import { acquire, acquireNarrow, coords, randomData, size, strides } from './helpers.js';

/** WebGPU's default limits for the core and compatibility feature levels (the least a device may have). */
const CORE: KernelLimits = {
  maxStorageBuffersPerShaderStage: 8,
  maxUniformBufferBindingSize: 65536,
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
  minUniformBufferOffsetAlignment: 256,
  minStorageBufferOffsetAlignment: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
};
const COMPAT: KernelLimits = { ...CORE, maxComputeInvocationsPerWorkgroup: 128, maxComputeWorkgroupSizeX: 128, maxComputeWorkgroupSizeY: 128 };
/** A desktop GPU's adapter limits. */
const DESKTOP: KernelLimits = { ...CORE, maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024, maxComputeWorkgroupSizeY: 1024 };
const TIGHT: KernelLimits = { ...CORE, maxComputeInvocationsPerWorkgroup: 64, maxComputeWorkgroupSizeX: 64, maxComputeWorkgroupSizeY: 64, maxComputeWorkgroupStorageSize: 4096 };

interface Operand extends StridedOperand {
  data: Float32Array;
}

/**
 * [...batch, rows, cols]: stored row-major, or transposed (columns contiguous) when `trans`; batch dim `bcast`
 * broadcast (stride 0); at `offset`. `length`: the elements its storage needs.
 */
function layoutOf(batch: number[], rows: number, cols: number, o: { trans?: boolean; offset?: number; bcast?: number } = {}): StridedOperand & { length: number } {
  const { trans = false, offset = 0, bcast = -1 } = o;
  const nb = batch.length;
  const mem = trans ? [...batch, cols, rows] : [...batch, rows, cols];
  const st = strides(mem);
  const s = trans ? [...st.slice(0, nb), st[nb + 1], st[nb]] : st.slice();
  if (bcast >= 0 && bcast < nb) s[bcast] = 0;
  return { shape: [...batch, rows, cols], strides: s, offset, length: offset + size(mem) };
}

/** A layout over fresh random data. */
function operand(batch: number[], rows: number, cols: number, o: { trans?: boolean; offset?: number; bcast?: number; seed?: number } = {}): Operand {
  const l = layoutOf(batch, rows, cols, o);
  return { ...l, data: randomData(l.length, o.seed ?? 1) };
}

const plan = (a: StridedOperand, b: StridedOperand, limits = CORE, tuning = DEFAULT_MATMUL_TUNING): MatmulPlan => matmulPlan(a, b, limits, tuning);

describe('matmul plan', () => {
  it('row-major operands with dims multiple of 4 run the vec4 kernel, loading A along k and B along n', () => {
    const p = plan(layoutOf([], 64, 64), layoutOf([], 64, 64));
    expect(p.kernel).toBe('vec4');
    expect(p.layout).toEqual({ a: 'k', b: 'n', out: true });
    expect(p.splits).toBe(1);
    expect(p.kChunk).toBe(64);
  });

  it('x·Wᵀ loads B along k, Xᵀ·G loads A along m, and an N not a multiple of 4 stores scalars', () => {
    expect(plan(layoutOf([], 32, 64), layoutOf([], 64, 48, { trans: true })).layout).toEqual({ a: 'k', b: 'k', out: true });
    expect(plan(layoutOf([], 32, 64, { trans: true }), layoutOf([], 64, 48)).layout).toEqual({ a: 'm', b: 'n', out: true });
    expect(plan(layoutOf([], 32, 64, { trans: true }), layoutOf([], 64, 30, { trans: true })).layout).toEqual({ a: 'm', b: 'k', out: false });
  });

  it('a broadcast batch (stride 0) and the stride of a length-1 axis leave the vec4 kernel usable', () => {
    expect(plan(layoutOf([3, 2], 8, 8, { bcast: 0 }), layoutOf([3, 2], 8, 8, { bcast: 1 })).kernel).toBe('vec4');
    const row = { shape: [1, 8], strides: [7, 1], offset: 4 };
    expect(plan(row, layoutOf([], 8, 8)).layout).toEqual({ a: 'k', b: 'n', out: true });
  });

  it('layouts that cannot be read 4-wide run the scalar kernel', () => {
    const a = layoutOf([], 8, 8);
    const b = layoutOf([], 8, 8);
    const scalar: [string, StridedOperand, StridedOperand][] = [
      ['N not a multiple of 4, B row-major', a, layoutOf([], 8, 30)],
      ['K not a multiple of 4, A row-major', layoutOf([], 8, 30), layoutOf([], 30, 8)],
      ['an offset not a multiple of 4', { ...a, offset: 2 }, b],
      ['a row stride not a multiple of 4', { ...a, strides: [10, 1] }, b],
      ['a batch stride not a multiple of 4', { shape: [2, 8, 8], strides: [66, 8, 1], offset: 0 }, layoutOf([2], 8, 8)],
      ['no unit stride (every other column)', { ...a, strides: [16, 2] }, b],
      ['K = 0', layoutOf([], 8, 0), layoutOf([], 0, 8)],
    ];
    for (const [why, x, y] of scalar) expect(plan(x, y).kernel, why).toBe('scalar');
  });

  it('the 8×8-per-invocation tile is used only when it gives largeTileGroups workgroups', () => {
    // 128×128 tiles on 16×16 invocations: 2048² is 256 tiles, 1024² only 64.
    expect(plan(layoutOf([], 2048, 64), layoutOf([], 64, 2048)).tile.tm).toBe(8);
    expect(plan(layoutOf([], 1024, 64), layoutOf([], 64, 1024)).tile.tm).toBe(4);
    expect(plan(layoutOf([16], 512, 64), layoutOf([16], 64, 512)).tile.tm).toBe(8);
    expect(plan(layoutOf([], 64, 64), layoutOf([], 64, 64), CORE, { ...DEFAULT_MATMUL_TUNING, largeTileGroups: 1 }).tile.tm).toBe(8);
  });

  it('long K with few output tiles is split into slices of at least splitMinK, multiples of BK, that cover K', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 40000 }),
        fc.integer({ min: 1, max: 300 }),
        fc.boolean(),
        fc.constantFrom(CORE, COMPAT, DESKTOP, TIGHT),
        (batch, M, K, N, trans, limits) => {
          const t = DEFAULT_MATMUL_TUNING;
          const p = plan(layoutOf([batch], M, K, { trans }), layoutOf([batch], K, N), limits);
          const groups = batch * Math.ceil(M / (p.tile.wy * p.tile.tm)) * Math.ceil(N / (p.tile.wx * p.tile.tn));
          const shouldSplit = groups < t.splitTargetGroups && K >= 2 * t.splitMinK && Math.floor(t.splitTargetGroups / groups) >= 2;
          expect(p.splits > 1).toBe(shouldSplit);
          if (p.splits === 1) {
            expect(p.kChunk).toBe(K);
            return;
          }
          expect(p.kChunk % p.tile.bk).toBe(0);
          expect(p.kChunk).toBeGreaterThanOrEqual(t.splitMinK);
          expect((p.splits - 1) * p.kChunk).toBeLessThan(K);
          expect(p.splits * p.kChunk).toBeGreaterThanOrEqual(K);
          expect(p.splits).toBeLessThanOrEqual(t.maxSplits);
          expect(p.splits * groups).toBeLessThanOrEqual(t.splitTargetGroups);
        },
      ),
      { numRuns: 300 },
    );
    const p = plan(layoutOf([], 64, 8192), layoutOf([], 8192, 64));
    expect([p.kernel, p.splits, p.kChunk]).toEqual(['vec4', 32, 256]);
    expect(plan(layoutOf([], 2048, 8192), layoutOf([], 8192, 2048)).splits).toBe(1);
    expect(plan(layoutOf([], 64, 300), layoutOf([], 300, 64)).splits).toBe(1);
  });

  it('the scratch of a split fits one storage binding', () => {
    const limits = { ...CORE, maxStorageBufferBindingSize: 64 * 64 * 4 * 3 };
    const p = plan(layoutOf([], 64, 8192), layoutOf([], 8192, 64), limits);
    expect(p.splits).toBeGreaterThan(1);
    expect(p.splits * 64 * 64 * 4).toBeLessThanOrEqual(limits.maxStorageBufferBindingSize);
  });

  it('every tile fits the limits it was chosen for; without room for a vec4 tile the plan is scalar', () => {
    const tiny = { ...TIGHT, maxComputeWorkgroupStorageSize: 512 };
    for (const limits of [CORE, COMPAT, DESKTOP, TIGHT, tiny]) {
      for (const t of [chooseTile(limits), chooseVec4Tile(limits, 4), chooseVec4Tile(limits, 8)]) {
        if (!t) continue;
        expect(t.wx * t.wy).toBeLessThanOrEqual(limits.maxComputeInvocationsPerWorkgroup);
        expect(t.wx).toBeLessThanOrEqual(limits.maxComputeWorkgroupSizeX);
        expect(t.wy).toBeLessThanOrEqual(limits.maxComputeWorkgroupSizeY);
        expect(tileBytes(t)).toBeLessThanOrEqual(limits.maxComputeWorkgroupStorageSize);
      }
    }
    expect(chooseVec4Tile(COMPAT, 8)).toEqual({ wx: 16, wy: 8, tm: 8, tn: 8, bk: 16 });
    expect(chooseVec4Tile(tiny, 4)).toBeNull();
    expect(plan(layoutOf([], 64, 64), layoutOf([], 64, 64), tiny).kernel).toBe('scalar');
  });
});

const { backend: be, reason } = await acquire();
const narrow = be ? await acquireNarrow() : null;
afterAll(() => narrow?.destroy());

/** Backends on one device that differ only in the plan's thresholds: the large tile always, or K split early. */
function tuned(base: WebGpuBackend, matmul: WebGpuBackendSettings['matmul']): WebGpuBackend {
  return new WebGpuBackend({ ...base.context, limits: base.limits }, { matmul });
}

/** `a @ b` on `backend` against float64 sums (|error| ≤ 4e-6·(Σ|products| + 1)); returns the result. */
async function check(backend: WebGpuBackend, a: Operand, b: Operand, what: string): Promise<Float32Array> {
  const r = a.shape.length;
  const batch = a.shape.slice(0, r - 2);
  const [M, K, N] = [a.shape[r - 2], a.shape[r - 1], b.shape[r - 1]];
  const [sa, sb] = [backend.upload('float32', a.data), backend.upload('float32', b.data)];
  const out = backend.matmul({ storage: sa, dtype: 'float32', ...a }, { storage: sb, dtype: 'float32', ...b });
  const got = (await backend.read(out, 'float32', size(batch) * M * N)) as Float32Array;
  const [asm, ask, bsk, bsn] = [a.strides[r - 2], a.strides[r - 1], b.strides[r - 2], b.strides[r - 1]];
  let o = 0;
  for (const bc of coords(batch)) {
    let [ab, bb] = [a.offset, b.offset];
    bc.forEach((c, d) => {
      ab += c * a.strides[d];
      bb += c * b.strides[d];
    });
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++, o++) {
        let s = 0;
        let scale = 0;
        for (let k = 0; k < K; k++) {
          const p = a.data[ab + i * asm + k * ask] * b.data[bb + k * bsk + j * bsn];
          s += p;
          scale += Math.abs(p);
        }
        if (!(Math.abs(got[o] - s) <= 4e-6 * (scale + 1))) throw new Error(`${what}: [${bc}, ${i}, ${j}] = ${got[o]}, expected ${s}`);
      }
    }
  }
  for (const s of [sa, sb, out]) backend.free(s);
  return got;
}

const describeKernels = (name: string, base: () => WebGpuBackend | null, runs: number) =>
  describe.skipIf(!base())(`webgpu matmul kernels, ${name} (${reason})`, () => {
    const b = base() as WebGpuBackend;
    const large = tuned(b, { largeTileGroups: 1 });
    const split = tuned(b, { splitMinK: 16, splitTargetGroups: 1 << 20 });

    it('the vec4 kernel (4×4 and 8×8 outputs per invocation) matches float64 for every load axis, batches and broadcast batches', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
          fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })),
          fc.boolean(),
          fc.boolean(),
          fc.integer({ min: -1, max: 2 }),
          fc.integer({ min: 0, max: 2 }),
          fc.boolean(),
          fc.integer({ min: 1, max: 2 ** 30 }),
          async (batchDims, [m4, k4, n4], ta, tb, bcast, off, big, seed) => {
            // Batch addressing is the same code in both tiles: the large tile runs unbatched (fewer pipelines to
            // compile, which is most of the time this test takes on a software adapter).
            const batch = big ? [] : batchDims;
            const [M, K, N] = [4 * m4, 4 * k4, 4 * n4];
            const A = operand(batch, M, K, { trans: ta, offset: 4 * off, bcast, seed });
            const B = operand(batch, K, N, { trans: tb, offset: 4 * ((off + 1) % 3), bcast: bcast - 1, seed: seed + 1 });
            const be = big ? large : b;
            const p = be.planMatmul(A, B);
            expect(p.kernel).toBe('vec4');
            expect(p.layout).toEqual({ a: ta ? 'm' : 'k', b: tb ? 'k' : 'n', out: true });
            expect(p.tile.tm).toBe(big ? 8 : 4);
            await check(be, A, B, `vec4 ${p.tile.tm}×${p.tile.tn} batch ${JSON.stringify(batch)} M${M} K${K} N${N} tA ${ta} tB ${tb}`);
          },
        ),
        { numRuns: runs },
      );
    });

    it('the vec4 kernel with B transposed and any N stores the last partial group of 4 element by element', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 70 }), fc.boolean(), async (M, k4, N, big) => {
          const K = 4 * k4;
          const A = operand([], M, K, { seed: M });
          const B = operand([], K, N, { trans: true, seed: N });
          const be = big ? large : b;
          const p = be.planMatmul(A, B);
          expect([p.kernel, p.layout?.b, p.layout?.out]).toEqual(['vec4', 'k', N % 4 === 0]);
          await check(be, A, B, `vec4 Bᵀ M${M} K${K} N${N}`);
        }),
        { numRuns: runs },
      );
    });

    it('the scalar kernel matches float64 on odd dims, misaligned offsets and strides', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
          fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 40 })),
          fc.boolean(),
          fc.boolean(),
          fc.integer({ min: -1, max: 2 }),
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 1, max: 2 ** 30 }),
          async (batch, [M, K, N], ta, tb, bcast, off, seed) => {
            // An odd offset on A: never 4-aligned.
            const A = operand(batch, M, K, { trans: ta, offset: 2 * off + 1, bcast, seed });
            const B = operand(batch, K, N, { trans: tb, offset: off, bcast: bcast - 1, seed: seed + 1 });
            expect(b.planMatmul(A, B).kernel).toBe('scalar');
            await check(b, A, B, `scalar batch ${JSON.stringify(batch)} M${M} K${K} N${N} tA ${ta} tB ${tb}`);
          },
        ),
        { numRuns: runs },
      );
    });

    it('split K (scalar and vec4) matches float64 and gives the same bits on every run', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 1 }),
          fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 32, max: 700 }), fc.integer({ min: 1, max: 20 })),
          fc.boolean(),
          fc.boolean(),
          fc.integer({ min: 1, max: 2 ** 30 }),
          async (batch, [m, K, n], vec4, ta, seed) => {
            const [M, N, KK] = vec4 ? [4 * Math.ceil(m / 4), 4 * Math.ceil(n / 4), 4 * Math.ceil(K / 4)] : [m, n, K];
            const A = operand(batch, M, KK, { trans: ta, offset: vec4 ? 0 : 1, bcast: 0, seed });
            const B = operand(batch, KK, N, { seed: seed + 1 });
            const p = split.planMatmul(A, B);
            expect(p.splits).toBeGreaterThan(1);
            expect(p.kernel).toBe(vec4 ? 'vec4' : 'scalar');
            const what = `split ${p.kernel} ×${p.splits} batch ${JSON.stringify(batch)} M${M} K${KK} N${N}`;
            const first = await check(split, A, B, what);
            const again = await check(split, A, B, what);
            expect(Buffer.from(again.buffer).equals(Buffer.from(first.buffer)), `${what}: a second run differs`).toBe(true);
          },
        ),
        { numRuns: runs },
      );
    });

    it('the default rule splits long K with a small output', async () => {
      const cases: [Operand, Operand][] = [
        [operand([], 8, 4096, { seed: 1 }), operand([], 4096, 8, { seed: 2 })],
        [operand([], 3, 2000, { seed: 3, offset: 1 }), operand([], 2000, 5, { seed: 4 })],
        [operand([2], 4, 1500, { seed: 5, trans: true, bcast: 0 }), operand([2], 1500, 4, { seed: 6, trans: true })],
      ];
      for (const [A, B] of cases) {
        const p = b.planMatmul(A, B);
        expect(p.splits).toBeGreaterThan(1);
        await check(b, A, B, `default split ${p.kernel} ×${p.splits} ${JSON.stringify(A.shape)} @ ${JSON.stringify(B.shape)}`);
      }
    });
  });

describeKernels('adapter limits', () => be, 20);
describeKernels('feature-level default limits', () => narrow, 8);
