import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { BackendError, type DType, setBackend, type Tensor, tensor } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncReads, registerAsyncOnlyCpu } from '../../../tests/support/async-only-backend.js';
import { loadSafetensors, type SaveOptions, saveSafetensors, saveSafetensorsAsync } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sift-save-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const path = () => join(dir, `f${n++}.safetensors`);
/** Files in the folder besides the finished ones: temporary files a save left behind. */
const leftovers = () => readdirSync(dir).filter((f) => f.includes('.tmp'));

beforeAll(registerAsyncOnlyCpu);

/** The same values as tensors on `backend`. */
async function on(backend: string, make: () => Record<string, Tensor>): Promise<Record<string, Tensor>> {
  await setBackend(backend);
  try {
    return make();
  } finally {
    await setBackend('cpu');
  }
}

function dispose(ts: Record<string, Tensor>): void {
  for (const t of Object.values(ts)) t.dispose();
}

const specArb = fc.dictionary(
  fc.stringMatching(/^[a-z][a-z0-9_.]{0,8}$/),
  fc.tuple(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), fc.constantFrom<DType>('float32', 'float64', 'int32', 'bool')),
  { maxKeys: 5 },
);
const optionsArb = fc.record<SaveOptions>({
  floatType: fc.constantFrom('F32', 'F16', 'BF16'),
  intType: fc.constantFrom('I32', 'I64'),
  metadata: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }), { nil: undefined }),
});

function make(spec: Record<string, [number[], DType]>): Record<string, Tensor> {
  return Object.fromEntries(
    Object.entries(spec).map(([name, [shape, dtype]], k) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: size }, (_, i) => (dtype === 'bool' ? (i + k) % 2 : dtype === 'int32' ? i * 7 - 3 * k : Math.sin(i + k) * 100));
      return [name, tensor(values, { shape, dtype })];
    }),
  );
}

describe('saveSafetensorsAsync', () => {
  test.prop([specArb, optionsArb], { numRuns: 25 })('writes the bytes saveSafetensors writes, for tensors on the CPU and on an async-only backend', async (spec, options) => {
    const cpu = make(spec);
    const remote = await on('cpu-async', () => make(spec));
    const [sync, viaCpu, viaAsync] = [path(), path(), path()];
    saveSafetensors(sync, cpu, options);
    await saveSafetensorsAsync(viaCpu, cpu, options);
    await saveSafetensorsAsync(viaAsync, remote, options);
    const want = readFileSync(sync);
    expect(readFileSync(viaCpu).equals(want)).toBe(true);
    expect(readFileSync(viaAsync).equals(want)).toBe(true);
    dispose(cpu);
    dispose(remote);
  });

  it('host values are written as they are: the bytes of the same values as tensors', async () => {
    const host = { w: { dtype: 'float32' as const, shape: [2, 2], data: Float32Array.from([1.5, -2, 0.25, 3]) }, ids: { dtype: 'int32' as const, shape: [3], data: Int32Array.from([4, 5, -6]) } };
    const ts = { w: tensor([[1.5, -2], [0.25, 3]]), ids: tensor([4, 5, -6], { dtype: 'int32' }) };
    const [a, b, c] = [path(), path(), path()];
    saveSafetensors(a, host, { floatType: 'F16' });
    await saveSafetensorsAsync(b, host, { floatType: 'F16' });
    saveSafetensors(c, ts, { floatType: 'F16' });
    expect(readFileSync(a).equals(readFileSync(c))).toBe(true);
    expect(readFileSync(b).equals(readFileSync(c))).toBe(true);
    dispose(ts);
    expect(() => saveSafetensors(path(), { v: { dtype: 'float32', shape: [3], data: new Float32Array(2) } })).toThrow(/tensor 'v': 2 values do not fill shape \[3\]/);
    expect(leftovers()).toEqual([]);
  });

  it('a read that fails mid-write (device lost) leaves the previous file intact and no temporary file', async () => {
    const p = path();
    saveSafetensors(p, { w: tensor([1, 2, 3]) });
    const before = readFileSync(p);
    const ts = await on('cpu-async', () => ({ a: tensor([9, 8]), b: tensor([7]), c: tensor([6]) }));
    asyncReads.failOn = ts.c.storage().data as object;
    // At the last read (c's) the header, a and b are on disk under the temporary name: truly mid-write.
    let written = 0;
    asyncReads.onRead = () => {
      const tmp = leftovers();
      written = tmp.length === 1 ? statSync(join(dir, tmp[0])).size : 0;
    };
    try {
      await expect(saveSafetensorsAsync(p, ts)).rejects.toThrow('device lost');
    } finally {
      asyncReads.failOn = null;
      asyncReads.onRead = null;
    }
    expect(readFileSync(p).equals(before)).toBe(true);
    expect(leftovers()).toEqual([]);
    const whole = path();
    await saveSafetensorsAsync(whole, ts);
    expect(written).toBe(statSync(whole).size - 4); // all but c's four bytes
    dispose(ts);
  });
});

describe('saveSafetensors on a backend that reads asynchronously', () => {
  it('refuses with a BackendError naming the tensor, the backend and the async form, writing nothing', async () => {
    const p = path();
    const ts = await on('cpu-async', () => ({ ok: tensor([1]), 'h.0.w': tensor([2, 3]) }));
    const save = () => saveSafetensors(p, ts);
    expect(save).toThrow(BackendError);
    expect(save).toThrow(/tensor 'h\.0\.w' is on backend 'cpu-async', which reads asynchronously; use await saveSafetensorsAsync/);
    expect(existsSync(p)).toBe(false);
    expect(leftovers()).toEqual([]);
    dispose(ts);
  });
});
