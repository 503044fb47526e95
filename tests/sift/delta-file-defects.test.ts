/**
 * Sparse-delta files (docs: NAME.indices I32 ascending, NAME.delta F32/F16/BF16, NAME.dense, metadata format
 * 'siftjs-sparse-delta' version '1') written byte by byte from the safetensors specification — an 8-byte
 * little-endian header length, the JSON header, the data — one defect at a time: loadDelta names the file and the
 * defect, and never returns a delta it cannot trust. saveDelta refuses what would not read back finite, judged by
 * what PyTorch reads back from float16 and bfloat16 (65504 is float16's largest finite value).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsError } from '@siftjs/safetensors';
import { DELTA_FORMAT, loadDelta, NonFiniteError, saveDelta, type SparseDelta } from '@siftjs/sift-optimizer';
import { afterAll, describe, expect, it } from 'vitest';

type Dtype = 'I32' | 'F32' | 'F64' | 'I8';
interface Entry {
  dtype: Dtype;
  shape: number[];
  values: number[];
}

/** A safetensors file by the specification: entries in order, no padding between them. */
function safetensors(entries: Record<string, Entry>, metadata: Record<string, string>): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, e] of Object.entries(entries)) {
    const bytes = { I32: 4, F32: 4, F64: 8, I8: 1 }[e.dtype];
    const b = Buffer.alloc(e.values.length * bytes);
    e.values.forEach((v, i) => {
      if (e.dtype === 'I32') b.writeInt32LE(v, i * 4);
      else if (e.dtype === 'F32') b.writeFloatLE(v, i * 4);
      else if (e.dtype === 'F64') b.writeDoubleLE(v, i * 8);
      else b.writeInt8(v, i);
    });
    header[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + b.length] };
    offset += b.length;
    chunks.push(b);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...chunks]);
}

const META = {
  format: DELTA_FORMAT,
  version: '1',
  shapes: JSON.stringify({ 'l.weight': [2, 3], 'l.bias': [2] }),
  density: '0.5',
  targets: JSON.stringify(['l.weight']),
  dense: JSON.stringify(['l.bias']),
  selection: 'fisher:2',
  fingerprint: 'abc123',
  tensor_fingerprints: JSON.stringify({ 'l.weight': 'f00d' }),
};
const GOOD: Record<string, Entry> = {
  'l.weight.indices': { dtype: 'I32', shape: [3], values: [0, 2, 5] },
  'l.weight.delta': { dtype: 'F32', shape: [3], values: [0.5, -1.25, 2] },
  'l.bias.dense': { dtype: 'F32', shape: [2], values: [3, -4] },
};

const dir = mkdtempSync(join(tmpdir(), 'sift-delta-defects-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(entries: Record<string, Entry>, metadata: Record<string, string>): string {
  const path = join(dir, `d${n++}.safetensors`);
  writeFileSync(path, safetensors(entries, metadata));
  return path;
}

/** loadDelta's error for a file with `entries` and `metadata`: a SafetensorsError naming the file. */
function refusal(entries: Record<string, Entry>, metadata: Record<string, string>): string {
  const path = file(entries, metadata);
  try {
    loadDelta(path);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as Error).message).toContain(path);
    return (e as Error).message;
  }
  throw new Error(`loadDelta accepted ${JSON.stringify(entries)} with ${JSON.stringify(metadata)}`);
}

const without = (key: string) => Object.fromEntries(Object.entries(META).filter(([k]) => k !== key));
const withEntry = (name: string, e: Entry | null) => {
  const out = { ...GOOD };
  if (e) out[name] = e;
  else delete out[name];
  return out;
};

describe('loadDelta on a well-formed file', () => {
  it('reads every field as written', () => {
    const d = loadDelta(file(GOOD, META));
    expect(d.metadata).toEqual({ density: 0.5, targets: ['l.weight'], dense: ['l.bias'], selection: 'fisher:2', fingerprint: 'abc123', tensorFingerprints: { 'l.weight': 'f00d' } });
    expect(Object.keys(d.sparse)).toEqual(['l.weight']);
    expect(d.sparse['l.weight'].shape).toEqual([2, 3]);
    expect(Array.from(d.sparse['l.weight'].indices)).toEqual([0, 2, 5]);
    expect(d.sparse['l.weight'].indices).toBeInstanceOf(Int32Array);
    expect(Array.from(d.sparse['l.weight'].values)).toEqual([0.5, -1.25, 2]);
    expect(d.sparse['l.weight'].values).toBeInstanceOf(Float32Array);
    expect(d.dense).toEqual({ 'l.bias': { shape: [2], values: Float32Array.from([3, -4]) } });
  });

  it("takes an absent selection for 'first-batch' and an absent fingerprint for none; the delta may come before its indices", () => {
    const reordered = { 'l.weight.delta': GOOD['l.weight.delta'], 'l.weight.indices': GOOD['l.weight.indices'] };
    const meta = { ...without('selection'), fingerprint: undefined as unknown as string, shapes: JSON.stringify({ 'l.weight': [2, 3] }) };
    delete (meta as Record<string, string>).fingerprint;
    const d = loadDelta(file(reordered, meta));
    expect(d.metadata.selection).toBe('first-batch');
    expect(d.metadata.fingerprint).toBe('');
    expect(Array.from(d.sparse['l.weight'].indices)).toEqual([0, 2, 5]);
    expect(Array.from(d.sparse['l.weight'].values)).toEqual([0.5, -1.25, 2]);
    expect(d.dense).toEqual({});
  });
});

describe('loadDelta refuses a defective file, naming it and the defect', () => {
  it('metadata: another format, another version, a missing or malformed JSON field', () => {
    expect(refusal(GOOD, { ...META, format: 'pytorch' })).toMatch(/not a sparse delta \(metadata format is 'pytorch', expected 'siftjs-sparse-delta'\)/);
    expect(refusal(GOOD, without('format'))).toMatch(/metadata format is 'absent'/);
    expect(refusal(GOOD, { ...META, version: '2' })).toMatch(/version '2' is not supported \(this reader knows 1\)/);
    for (const key of ['shapes', 'targets', 'dense', 'tensor_fingerprints']) {
      expect(refusal(GOOD, without(key))).toMatch(new RegExp(`metadata lacks '${key}'`));
      expect(refusal(GOOD, { ...META, [key]: '{not json' })).toMatch(new RegExp(`metadata '${key}' is not valid JSON`));
    }
  });

  it('tensors: one without a shape, of a stored dtype a delta never uses, of an unknown kind', () => {
    expect(refusal(withEntry('m.weight.indices', { dtype: 'I32', shape: [1], values: [0] }), META)).toMatch(/tensor 'm.weight.indices' has no shape in the metadata/);
    expect(refusal(withEntry('l.weight.indices', { dtype: 'F32', shape: [3], values: [0, 2, 5] }), META)).toMatch(/'l.weight.indices' is stored as F32; a sparse delta stores indices as I32/);
    expect(refusal(withEntry('l.weight.delta', { dtype: 'I32', shape: [3], values: [1, 2, 3] }), META)).toMatch(/'l.weight.delta' is stored as I32; a sparse delta stores values as F32, F16 or BF16/);
    expect(refusal(withEntry('l.bias.dense', { dtype: 'F64', shape: [2], values: [3, -4] }), META)).toMatch(/'l.bias.dense' is stored as F64/);
    expect(refusal(withEntry('l.bias.dense', { dtype: 'I8', shape: [2], values: [3, -4] }), META)).toMatch(/'l.bias.dense' is stored as I8/);
    expect(refusal(withEntry('l.bias.extra', { dtype: 'F32', shape: [2], values: [1, 2] }), META)).toMatch(/unexpected tensor 'l.bias.extra' \(expected NAME.indices, NAME.delta or NAME.dense\)/);
  });

  it('counts: a dense tensor of the wrong size, indices and increments of different lengths', () => {
    expect(refusal(withEntry('l.bias.dense', { dtype: 'F32', shape: [3], values: [1, 2, 3] }), META)).toMatch(/'l.bias.dense' has 3 values for shape \[2\]/);
    expect(refusal(withEntry('l.weight.delta', { dtype: 'F32', shape: [2], values: [1, 2] }), META)).toMatch(/'l.weight' has 3 indices but 2 increments/);
    expect(refusal(withEntry('l.weight.delta', null), META)).toMatch(/'l.weight' has 3 indices but 0 increments/);
    expect(refusal(withEntry('l.weight.indices', null), META)).toMatch(/'l.weight' has 0 indices but 3 increments/);
  });

  it('indices: outside the tensor (below 0, at or past its size), repeated or descending', () => {
    const idx = (values: number[]) => withEntry('l.weight.indices', { dtype: 'I32', shape: [3], values });
    expect(refusal(idx([-1, 2, 5]), META)).toMatch(/'l.weight.indices'\[0\] = -1 is outside a tensor of 6 elements/);
    expect(refusal(idx([0, 2, 6]), META)).toMatch(/'l.weight.indices'\[2\] = 6 is outside a tensor of 6 elements/);
    expect(refusal(idx([0, 2, 2]), META)).toMatch(/'l.weight.indices' is not strictly ascending at position 2/);
    expect(refusal(idx([0, 3, 1]), META)).toMatch(/'l.weight.indices' is not strictly ascending at position 2/);
    expect(refusal(idx([4, 3, 5]), META)).toMatch(/is not strictly ascending at position 1/);
    // The last in-range index and a run of neighbours are fine.
    expect(Array.from(loadDelta(file(idx([3, 4, 5]), META)).sparse['l.weight'].indices)).toEqual([3, 4, 5]);
  });

  it('values: a NaN or an infinity among the increments or the dense values, with its position', () => {
    expect(refusal(withEntry('l.weight.delta', { dtype: 'F32', shape: [3], values: [0, NaN, 1] }), META)).toMatch(/'l.weight.delta' holds NaN at \[1\]; a delta holds finite numbers only/);
    expect(refusal(withEntry('l.bias.dense', { dtype: 'F32', shape: [2], values: [0, -Infinity] }), META)).toMatch(/'l.bias.dense' holds -Infinity at \[1\]/);
  });
});

describe('saveDelta', () => {
  const delta = (values: number[], dense: number[] = [1, 2]): SparseDelta => ({
    sparse: { 'l.weight': { shape: [2, 3], indices: Int32Array.from([0, 4]), values: Float32Array.from(values) } },
    dense: { 'l.bias': { shape: [2], values: Float32Array.from(dense) } },
    metadata: { density: 0.25, targets: ['l.weight'], dense: ['l.bias'], selection: 'accumulate:3', fingerprint: 'ff', tensorFingerprints: { 'l.weight': 'aa' } },
  });

  it('writes what loadDelta reads back: F32 exactly, F16 and BF16 as PyTorch rounds them', () => {
    const path = join(dir, 'saved.safetensors');
    saveDelta(path, delta([1 / 3, -2.5e-5], [65504, 70000]));
    const f32 = loadDelta(path);
    expect(Array.from(f32.sparse['l.weight'].values)).toEqual([0.3333333432674408, -2.499999936844688e-5]);
    expect(Array.from(f32.dense['l.bias'].values)).toEqual([65504, 70000]);
    expect(f32.metadata).toEqual(delta([]).metadata);
    saveDelta(path, delta([1 / 3, -2.5e-5]), { dtype: 'F16' });
    expect(Array.from(loadDelta(path).sparse['l.weight'].values)).toEqual([0.333251953125, -2.4974346160888672e-5]);
    saveDelta(path, delta([1 / 3, -2.5e-5], [65504, 70000]), { dtype: 'BF16' });
    const bf16 = loadDelta(path);
    expect(Array.from(bf16.sparse['l.weight'].values)).toEqual([0.333984375, -2.5033950805664062e-5]);
    expect(Array.from(bf16.dense['l.bias'].values)).toEqual([65536, 70144]);
  });

  it('refuses, naming the file, the tensor and the position, what would not read back finite', () => {
    const path = join(dir, 'refused.safetensors');
    expect(() => saveDelta(path, delta([1, NaN]))).toThrow(NonFiniteError);
    expect(() => saveDelta(path, delta([1, NaN]))).toThrow(`${path}: 'l.weight.delta' holds NaN at [1]; a delta holds finite numbers only, not saved`);
    expect(() => saveDelta(path, delta([1, 2], [Infinity, 0]))).toThrow(`'l.bias.dense' holds Infinity at [0]`);
    // 70000 is finite in float32 and bfloat16 and overflows float16.
    expect(() => saveDelta(path, delta([1, 2], [65504, 70000]), { dtype: 'F16' })).toThrow(`'l.bias.dense' holds Infinity (70000 stored as F16) at [1]`);
    expect(() => saveDelta(path, delta([70000, 2]), { dtype: 'F16' })).toThrow(`'l.weight.delta' holds Infinity (70000 stored as F16) at [0]`);
  });
});
