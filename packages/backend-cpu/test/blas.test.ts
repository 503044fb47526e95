import { fc, test } from '@fast-check/vitest';
import type { View } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backend.js';
import { blasLayout } from '../src/blas/blas-matmul.js';
import { blasFromEnv, loadCblas } from '../src/blas/cblas.js';

/**
 * The platform's BLAS under the CPU backend's matmul: products against a float64 product written from the
 * definition, on every layout a view can have (transposed, broadcast, strided), for 1, 2 and 4 threads. CI installs
 * OpenBLAS (.ci/run) and must find it; elsewhere, without one, the BLAS cases say why they do not run.
 */
const found = await loadCblas(undefined);
// SIFT_BLAS=0 turns the BLAS off for the whole run (the WebAssembly path, as on a machine without one): then nothing
// here may require it, CI or not.
const off = blasFromEnv() === null;
const required = process.env.CI === 'true' && !off;
if (!found && !required) console.log('[blas.test] no OpenBLAS / Accelerate found (SIFT_BLAS to name one): the BLAS cases do not run here');
if (off) console.log('[blas.test] SIFT_BLAS turns the BLAS off: the BLAS cases do not run');

describe('blasLayout (CBLAS row-major leading dimensions)', () => {
  it('a row-major matrix reads untransposed with its row stride; a column-major one transposed with its column stride', () => {
    expect(blasLayout(3, 4, 4, 1)).toEqual({ trans: false, ld: 4 });
    expect(blasLayout(3, 4, 10, 1)).toEqual({ trans: false, ld: 10 }); // a row-major view into a wider matrix
    expect(blasLayout(3, 4, 1, 3)).toEqual({ trans: true, ld: 3 });
    expect(blasLayout(3, 4, 1, 7)).toEqual({ trans: true, ld: 7 });
  });
  it('extent-1 dimensions take a leading dimension BLAS accepts (≥ the other extent)', () => {
    expect(blasLayout(1, 5, 0, 1)).toEqual({ trans: false, ld: 5 });
    expect(blasLayout(5, 1, 1, 0)).toEqual({ trans: false, ld: 1 }); // a column read row-major, one element a row
    expect(blasLayout(5, 1, 0, 3)).toBeNull(); // one element broadcast down the column
  });
  it('a broadcast or doubly strided operand is not a BLAS layout (the WebAssembly kernel takes it)', () => {
    expect(blasLayout(3, 4, 0, 1)).toBeNull();
    expect(blasLayout(3, 4, 8, 2)).toBeNull();
    expect(blasLayout(3, 4, 2, 1)).toBeNull(); // rows overlap: not a matrix BLAS can address
  });
});

describe.runIf((found && !off) || required)('CPU matmul through the BLAS', () => {
  const counts = [1, 2, 4];
  const backends = counts.map((threads) => new CpuBackend({ threads }));
  beforeAll(() => Promise.all(backends.map((b) => b.init())));
  afterAll(() => Promise.all(backends.map((b) => b.dispose())));

  it('is found and named by info()', () => {
    for (const b of backends) expect((b.info().blas as { name: string } | null)?.name).toMatch(/\w/);
    expect(backends[0].info().description).toContain('matmul (');
  });

  test.prop(
    [
      fc.record({
        batch: fc.integer({ min: 1, max: 3 }),
        m: fc.integer({ min: 1, max: 70 }),
        k: fc.integer({ min: 1, max: 90 }),
        n: fc.integer({ min: 1, max: 150 }),
        f64: fc.boolean(),
        layoutA: fc.constantFrom('rows', 'wide', 'cols', 'broadcast', 'strided'),
        layoutB: fc.constantFrom('rows', 'wide', 'cols', 'broadcast', 'strided'),
        seed: fc.integer(),
      }),
    ],
    { numRuns: 40 },
  )('equals the float64 product on every layout, bitwise the same on 1, 2 and 4 threads', ({ batch, m, k, n, f64, layoutA, layoutB, seed }) => {
    let s = seed;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8) / 2 ** 24 - 0.5;
    const a = operand(batch, m, k, layoutA, rnd);
    const w = operand(batch, k, n, layoutB, rnd);
    const dtype = f64 ? 'float64' : 'float32';
    const outs = backends.map((b) => {
      const upload = (o: Operand): View => ({ storage: b.upload(dtype, f64 ? Float64Array.from(o.data) : Float32Array.from(o.data)), dtype, shape: o.shape, strides: o.strides, offset: o.offset });
      const [av, wv] = [upload(a), upload(w)];
      const out = b.matmul(av, wv);
      const values = Array.from(b.readSync(out, dtype, batch * m * n));
      for (const st of [av.storage, wv.storage, out]) b.free(st);
      return values;
    });
    // The float64 product from the definition, reading each operand through its own strides. Inputs are rounded
    // to the dtype first so only the product's own rounding is measured.
    const round = (x: number) => (f64 ? x : Math.fround(x));
    let worst = 0;
    for (let i = 0; i < batch; i++)
      for (let r = 0; r < m; r++)
        for (let c = 0; c < n; c++) {
          let want = 0;
          let scale = 0;
          for (let p = 0; p < k; p++) {
            const x = round(a.at(i, r, p)) * round(w.at(i, p, c));
            want += x;
            scale += Math.abs(x);
          }
          worst = Math.max(worst, Math.abs(outs[0][(i * m + r) * n + c] - want) / Math.max(scale, 1e-30));
        }
    expect(worst).toBeLessThan(f64 ? 1e-13 : 1e-5);
    expect(outs[1]).toEqual(outs[0]);
    expect(outs[2]).toEqual(outs[0]);
  });
});

describe.runIf((found && !off) || required)('batches of small products through the BLAS (attention\'s heads)', () => {
  const counts = [1, 2, 4];
  const backends = counts.map((threads) => new CpuBackend({ threads }));
  beforeAll(() => Promise.all(backends.map((b) => b.init())));
  afterAll(() => Promise.all(backends.map((b) => b.dispose())));

  it('the worker threads load the BLAS too, so a batch is split between all threads', () => {
    // internals, read-only: the pool of the 2- and 4-thread backends
    const pool = (b: CpuBackend) => (b as unknown as { cpu: { matmuls: { workers: { blasOnWorkers: boolean } | null } } }).cpu.matmuls.workers;
    expect(pool(backends[1])?.blasOnWorkers).toBe(true);
    expect(pool(backends[2])?.blasOnWorkers).toBe(true);
  });

  it.each([
    ['q·kᵀ', false, true],
    ['att·v', false, false],
    ['attᵀ·dout', true, false],
  ])('%s over 8×8 heads of 128×64·64×128 equals the float64 product, bitwise the same on 1, 2 and 4 threads', (_, ta, tb) => {
    // 64 products (about a millisecond): enough that the workers, woken as the batch starts, take some of them
    const [batch, m, k, n] = [64, 128, 64, 128];
    let s = 7;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8) / 2 ** 24 - 0.5;
    const a = Float32Array.from({ length: batch * m * k }, rnd);
    const w = Float32Array.from({ length: batch * k * n }, rnd);
    // element (i, r, c) of op(A) and op(B) as stored (transposed: the matrix is kept the other way round)
    const at = (i: number, r: number, c: number) => a[i * m * k + (ta ? c * m + r : r * k + c)];
    const wt = (i: number, r: number, c: number) => w[i * k * n + (tb ? c * k + r : r * n + c)];
    const outs = backends.map((b) => {
      const av: View = { storage: b.upload('float32', a), dtype: 'float32', shape: [8, 8, m, k], strides: ta ? [8 * m * k, m * k, 1, m] : [8 * m * k, m * k, k, 1], offset: 0 };
      const wv: View = { storage: b.upload('float32', w), dtype: 'float32', shape: [8, 8, k, n], strides: tb ? [8 * k * n, k * n, 1, k] : [8 * k * n, k * n, n, 1], offset: 0 };
      const out = b.matmul(av, wv);
      const values = Array.from(b.readSync(out, 'float32', batch * m * n));
      for (const st of [av.storage, wv.storage, out]) b.free(st);
      return values;
    });
    let worst = 0;
    for (let i = 0; i < batch; i++)
      for (let r = 0; r < m; r++)
        for (let c = 0; c < n; c++) {
          let [want, scale] = [0, 0];
          for (let p = 0; p < k; p++) {
            want += at(i, r, p) * wt(i, p, c);
            scale += Math.abs(at(i, r, p) * wt(i, p, c));
          }
          worst = Math.max(worst, Math.abs(outs[0][(i * m + r) * n + c] - want) / scale);
        }
    expect(worst).toBeLessThan(1e-5);
    // the first element that differs, if any (a diff of a million elements would take the reporter minutes)
    const firstDifference = (x: number[], y: number[]) => x.findIndex((v, i) => !Object.is(v, y[i]));
    expect(firstDifference(outs[1], outs[0])).toBe(-1);
    expect(firstDifference(outs[2], outs[0])).toBe(-1);
  });
});

describe('SIFT_BLAS / the blas option', () => {
  it('false leaves the WebAssembly matmul in place and says so', async () => {
    const b = new CpuBackend({ threads: 1, blas: false });
    await b.init();
    expect(b.info().blas).toBeNull();
    expect(b.info().description).toMatch(/^WebAssembly SIMD float32 matmul/);
    await b.dispose();
  });
  it('a named library that cannot load fails the start with its name, never a quiet fallback', async () => {
    const b = new CpuBackend({ threads: 1, blas: '/nonexistent/libopenblas.so.0' });
    await expect(b.init()).rejects.toThrow(/SIFT_BLAS=\/nonexistent\/libopenblas\.so\.0: cannot load it/);
    await b.dispose();
  });
});

interface Operand {
  data: number[];
  shape: number[];
  strides: number[];
  offset: number;
  /** Element (i, r, c) as the view reads it. */
  at(i: number, r: number, c: number): number;
}

/**
 * A [batch, rows, cols] view in one of five layouts: row-major, row-major inside a wider matrix (a column slice),
 * column-major (a transposed view), one matrix broadcast over the batch (stride 0), or every other element of a
 * wider matrix (not a BLAS layout), at an offset.
 */
function operand(batch: number, rows: number, cols: number, layout: string, rnd: () => number): Operand {
  const offset = 3;
  const mats = layout === 'broadcast' ? 1 : batch;
  const per = layout === 'strided' ? rows * cols * 2 : layout === 'wide' ? rows * (cols + 2) : rows * cols;
  const data = Array.from({ length: offset + mats * per }, rnd);
  const [bs, rs, cs] =
    layout === 'rows' ? [per, cols, 1] : layout === 'wide' ? [per, cols + 2, 1] : layout === 'cols' ? [per, 1, rows] : layout === 'broadcast' ? [0, cols, 1] : [per, cols * 2, 2];
  return { data, shape: [batch, rows, cols], strides: [bs, rs, cs], offset, at: (i, r, c) => data[offset + i * bs + r * rs + c * cs] };
}
