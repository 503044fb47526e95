import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { bf16ToFloat, floatToBf16, floatToHalf, halfToFloat, loadSafetensors, SafetensorsError, SafetensorsFile, saveSafetensors, saveSafetensorsAsync } from '@siftjs/safetensors';
import { scope, tensor } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, caps, syncOrAsync } from '../support/backends.js';
import { read } from '../support/read.js';

const dir = mkdtempSync(join(tmpdir(), 'sift-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const path = () => join(dir, `f${fileNo++}.safetensors`);

/** A file built by hand from a header object and data bytes (so bad files can be made on purpose). */
function rawFile(header: unknown, data: Uint8Array, headerText = JSON.stringify(header)): string {
  const h = new TextEncoder().encode(headerText);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
  const p = path();
  writeFileSync(p, Buffer.concat([len, h, data]));
  return p;
}

describe('half-precision conversions', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [2 ** -24, 0x0001],
    [0.1, 0x2e66],
    [1e6, 0x7c00],
    [0, 0],
  ])('float %d ↔ half 0x%s (IEEE binary16, round to nearest even)', (x, h) => {
    expect(floatToHalf(x)).toBe(h);
    if (Number.isFinite(halfToFloat(h))) expect(halfToFloat(h)).toBeCloseTo(x > 65504 ? Infinity : x, 3);
  });

  test.prop([fc.integer({ min: 0, max: 0xffff })])('every half survives half → float → half', (h) => {
    const x = halfToFloat(h);
    if (Number.isNaN(x)) expect(Number.isNaN(halfToFloat(floatToHalf(x)))).toBe(true);
    else expect(floatToHalf(x)).toBe(h);
  });

  test.prop([fc.integer({ min: 0, max: 0xffff })])('every bfloat16 survives bf16 → float → bf16', (b) => {
    const x = bf16ToFloat(b);
    if (Number.isNaN(x)) expect(Number.isNaN(bf16ToFloat(floatToBf16(x)))).toBe(true);
    else expect(floatToBf16(x)).toBe(b);
  });
});

describe.each(backendsUnderTest())('safetensors on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop(
    [
      fc.dictionary(
        fc.stringMatching(/^[a-z][a-z0-9_.]{0,12}$/),
        fc.tuple(
          fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
          // float64 tensors only where the backend has them.
          fc.constantFrom<'float32' | 'int32' | 'float64'>('float32', 'int32', ...(backend.float64 ? (['float64'] as const) : [])),
        ),
        { maxKeys: 5 },
      ),
      fc.constantFrom('F32', 'F16', 'BF16') as fc.Arbitrary<'F32' | 'F16' | 'BF16'>,
    ],
    { numRuns: 30 },
  )('save then load returns the same names, shapes and values (floats within the stored precision)', async (spec, floatType) => {
    const tensors = Object.fromEntries(
      Object.entries(spec).map(([name, [shape, dtype]], k) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: n }, (_, i) => (dtype === 'int32' ? i - k : Math.sin(i + k) * 10));
        return [name, tensor(values, { shape, dtype })];
      }),
    );
    const p = path();
    const opts = { floatType, metadata: { format: 'pt' } };
    await syncOrAsync(() => saveSafetensors(p, tensors, opts), () => saveSafetensorsAsync(p, tensors, opts));
    const { names, dtypes, got, want } = await read(() => {
      const back = loadSafetensors(p);
      expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
      const f = SafetensorsFile.open(p);
      expect(f.metadata).toEqual({ format: 'pt' });
      f.close();
      for (const [name, t] of Object.entries(tensors)) expect(back[name].shape, name).toEqual(t.shape);
      const keys = Object.keys(tensors);
      return { names: keys, dtypes: keys.map((k) => tensors[k].dtype), got: keys.map((k) => back[k]), want: keys.map((k) => tensors[k]) };
    });
    for (const t of Object.values(tensors)) t.dispose();
    names.forEach((name, j) => {
      const dtype = dtypes[j];
      const rel = dtype === 'int32' ? 0 : dtype === 'float64' && floatType === 'F32' ? 0 : floatType === 'F16' ? 1e-3 : floatType === 'BF16' ? 8e-3 : 1e-7;
      for (let i = 0; i < want[j].length; i++) expect(Math.abs(got[j][i] - want[j][i]), name).toBeLessThanOrEqual(rel * Math.abs(want[j][i]) + 1e-6);
    });
  });

  it('writes int32 tensors as I64 on request and reads them back', async () => {
    const p = path();
    const ids = tensor([[-3, 0, 2147483647]], { dtype: 'int32' });
    await syncOrAsync(() => saveSafetensors(p, { ids }, { intType: 'I64' }), () => saveSafetensorsAsync(p, { ids }, { intType: 'I64' }));
    ids.dispose();
    const f = SafetensorsFile.open(p);
    expect(f.info('ids').dtype).toBe('I64');
    expect(await read(() => f.read('ids'))).toEqual([-3, 0, 2147483647]);
    f.close();
  });

  it('reads one tensor at a time: F16 and BF16 as float16 / bfloat16 (float32 where the backend has no half storage), I64 as int32', async () => {
    let f!: SafetensorsFile;
    const got = await read(() => {
      const data = new Uint8Array(2 + 2 + 8);
      const v = new DataView(data.buffer);
      v.setUint16(0, 0x3c00, true); // F16 1.0
      v.setUint16(2, 0xc000, true); // BF16 -2.0
      v.setBigInt64(4, -7n, true);
      const p = rawFile({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] }, b: { dtype: 'BF16', shape: [1], data_offsets: [2, 4] }, c: { dtype: 'I64', shape: [], data_offsets: [4, 12] } }, data);
      f = SafetensorsFile.open(p);
      expect(f.keys().sort()).toEqual(['a', 'b', 'c']);
      expect(f.read('c').dtype).toBe('int32');
      expect([f.read('a').dtype, f.read('b').dtype]).toEqual(caps().half ? ['float16', 'bfloat16'] : ['float32', 'float32']);
      expect([f.read('a', 'float32').dtype, f.read('b', 'float32').dtype]).toEqual(['float32', 'float32']);
      expect(() => f.read('zzz')).toThrow(/no tensor named 'zzz'/);
      return [f.read('a'), f.read('b'), f.read('c')];
    });
    expect(got).toEqual([[1], [-2], [-7]]);
    f.close();
  });

  it('a save that fails leaves the previous file intact (it writes a temporary file, then renames)', async () => {
    const p = path();
    const [w, a] = [tensor([1, 2, 3]), tensor([9])];
    await syncOrAsync(() => saveSafetensors(p, { w }), () => saveSafetensorsAsync(p, { w }));
    const before = readFileSync(p);
    const poisoned = tensor([1]);
    poisoned.dispose(); // reading it throws in the middle of the save
    if (caps().syncReads) expect(() => saveSafetensors(p, { a, z: poisoned })).toThrow();
    else await expect(saveSafetensorsAsync(p, { a, z: poisoned })).rejects.toThrow();
    expect(readFileSync(p).equals(before)).toBe(true);
    w.dispose();
    a.dispose();
  });

  const f32 = (n: number) => new Uint8Array(4 * n);
  it.each([
    ['a file shorter than the length field', () => { const p = path(); writeFileSync(p, Buffer.from([1, 2, 3])); return p; }, /truncated: 3 bytes/],
    ['a header length past the end of the file', () => { const p = path(); const b = Buffer.alloc(16); b.writeBigUInt64LE(1000n); writeFileSync(p, b); return p; }, /header length 1000 runs past the end of the file \(16 bytes\)/],
    ['invalid header JSON', () => rawFile(null, f32(0), '{"a": '), /invalid header JSON/],
    ['an unknown dtype', () => rawFile({ a: { dtype: 'F7', shape: [1], data_offsets: [0, 4] } }, f32(1)), /tensor 'a': unknown dtype 'F7'/],
    ['offsets past the data', () => rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1)), /tensor 'a': data_offsets \[0, 8\] run past the data section \(4 bytes\)/],
    ['overlapping tensors', () => rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(3)), /tensors 'a' and 'b' overlap/],
    ['a shape whose size disagrees with the offsets', () => rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(2)), /shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] hold 8/],
    ['bytes that belong to no tensor', () => rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)), /bytes 0–4 of the data section belong to no tensor/],
    ['a negative shape', () => rawFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, f32(0)), /shape \[-1\] is not a list of non-negative integers/],
  ])('%s gives an error naming the file and the defect', (_, make, message) => {
    const p = make();
    expect(() => SafetensorsFile.open(p)).toThrow(SafetensorsError);
    expect(() => SafetensorsFile.open(p)).toThrow(message);
    expect(() => SafetensorsFile.open(p)).toThrow(p);
  });

  test.prop(
    [
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.option(fc.nat(), { nil: undefined }),
    ],
    { numRuns: 150 },
  )('fuzz: a mutated or truncated valid file either loads or throws a SafetensorsError — never anything else', async (flips, cut) => {
    const p = path();
    const ts = { a: tensor([1, 2, 3]), b: tensor([[1, 2], [3, 4]], { dtype: 'int32' }), c: tensor([0.5]) };
    await syncOrAsync(() => saveSafetensors(p, ts, { floatType: 'F16' }), () => saveSafetensorsAsync(p, ts, { floatType: 'F16' }));
    for (const t of Object.values(ts)) t.dispose();
    scope(() => {
      const bytes = Buffer.from(readFileSync(p));
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      const mutated = cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
      writeFileSync(p, mutated);
      try {
        const f = SafetensorsFile.open(p);
        try {
          for (const k of f.keys()) f.read(k);
        } finally {
          f.close();
        }
      } catch (e) {
        expect(e instanceof SafetensorsError, String(e)).toBe(true);
      }
    });
  });
});
