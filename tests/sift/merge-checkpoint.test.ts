/**
 * mergeInto (base checkpoint + deltas → a plain checkpoint) on small checkpoints written by hand, against
 * independent values: the merged float32 weights are fl(base + s·δ) computed with Math.fround, the fingerprints
 * SHA-256 (node:crypto) of the documented bytes, F16 overflow from float16's largest finite value (65504). Each
 * refusal names what is wrong and leaves no checkpoint behind.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HostTensor, SafetensorsFile, saveSafetensors } from '@siftjs/safetensors';
import { DeltaError, mergeInto, mergeIntoAsync, NonFiniteError, type SparseDelta } from '@siftjs/sift-optimizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, syncOrAsync } from '../support/backends.js';

const W = [0.5, -1.25, 2, 3.5, -0.75, 1]; // 'h.0.w' [2, 3]
const B = [0.25, -0.5]; // 'h.0.b' [2]

function sha256(...chunks: Buffer[]): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

/** The documented per-tensor digest: name \0 shape-joined-by-x \0, int32 indices, float32 base values there. */
function tensorDigest(name: string, shape: number[], indices: number[], base: number[]): string {
  const idx = Buffer.alloc(indices.length * 4);
  const val = Buffer.alloc(indices.length * 4);
  indices.forEach((i, j) => {
    idx.writeInt32LE(i, j * 4);
    val.writeFloatLE(base[i], j * 4);
  });
  return sha256(Buffer.from(`${name}\u0000${shape.join('x')}\u0000`), idx, val);
}

/** A delta on 'h.0.w' (named `name` in the delta) at `indices`, fingerprinted against `base` (the base's W). */
function delta(indices: number[], values: number[], { name = 'h.0.w', base = W, dense = {} as SparseDelta['dense'] } = {}): SparseDelta {
  const digest = tensorDigest(name, [2, 3], indices, base);
  return {
    sparse: { [name]: { shape: [2, 3], indices: Int32Array.from(indices), values: Float32Array.from(values) } },
    dense,
    metadata: { density: 0.5, targets: [name], dense: Object.keys(dense), selection: 'first-batch', fingerprint: sha256(Buffer.from(`${name}:${digest}`)), tensorFingerprints: { [name]: digest.slice(0, 16) } },
  };
}

describe.each(backendsUnderTest())('mergeInto on $name', (backend) => {
  const root = mkdtempSync(join(tmpdir(), 'sift-merge-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;

  /** A checkpoint directory: config.json, model.safetensors (floats stored as `floatType`), a tokenizer file. */
  function checkpoint(tensors: Record<string, HostTensor> = { 'h.0.w': { dtype: 'float32', shape: [2, 3], data: Float32Array.from(W) }, 'h.0.b': { dtype: 'float32', shape: [2], data: Float32Array.from(B) } }, floatType: 'F32' | 'F16' = 'F32'): string {
    const dir = join(root, `base${n++}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'toy', hidden: 3 }));
    writeFileSync(join(dir, 'tokenizer.json'), '{"t":1}');
    writeFileSync(join(dir, 'extra.safetensors'), 'not copied');
    writeFileSync(join(dir, 'model.safetensors.bak'), 'not copied');
    mkdirSync(join(dir, 'subdir'));
    saveSafetensors(join(dir, 'model.safetensors'), tensors, { floatType });
    return dir;
  }

  const merge = (opts: Parameters<typeof mergeInto>[0]) =>
    syncOrAsync(
      () => mergeInto(opts),
      () => mergeIntoAsync(opts),
    );

  function readOut(dir: string): Record<string, { dtype: string; shape: number[]; values: number[] }> {
    const f = SafetensorsFile.open(join(dir, 'model.safetensors'));
    const out: Record<string, { dtype: string; shape: number[]; values: number[] }> = {};
    for (const k of f.keys()) out[k] = { dtype: f.info(k).dtype, shape: f.info(k).shape, values: Array.from(f.readArray(k)) };
    f.close();
    return out;
  }

  /** The refusal of a merge into a fresh `out`, which must not exist afterwards. */
  async function refusal(opts: Omit<Parameters<typeof mergeInto>[0], 'out'>, type: typeof DeltaError | typeof NonFiniteError): Promise<string> {
    const out = join(root, `out${n++}`);
    const e = await merge({ ...opts, out }).then(
      () => null,
      (err: Error) => err,
    );
    expect(e).toBeInstanceOf(type);
    expect(existsSync(out), 'nothing written').toBe(false);
    return (e as Error).message;
  }

  beforeAll(() => backend.start());

  it('writes fl(base + s·δ) for each delta in order, a new dense head, the config with overrides, the other files', async () => {
    const base = checkpoint();
    // A directory that does not exist yet, two levels deep.
    const out = join(root, 'new', 'merged');
    const d1 = delta([1, 4], [0.125, 3]);
    // A second delta over the same components: made from the base too (it is verified against the base's values).
    const d2 = delta([4, 5], [-0.5, 0.0625], { dense: { 'head.w': { shape: [1, 2], values: Float32Array.from([7, 8]) } } });
    await merge({ base, deltas: [{ delta: d1 }, { delta: d2, scale: 0.5 }], out, config: { num_labels: 1 } });
    const got = readOut(out);
    const want = W.map((w) => Math.fround(w));
    want[1] = Math.fround(want[1] + 0.125);
    want[4] = Math.fround(want[4] + 3);
    want[4] = Math.fround(want[4] + Math.fround(-0.5 * 0.5));
    want[5] = Math.fround(want[5] + Math.fround(0.0625 * 0.5));
    expect(got['h.0.w']).toEqual({ dtype: 'F32', shape: [2, 3], values: want });
    expect(got['h.0.b']).toEqual({ dtype: 'F32', shape: [2], values: B });
    expect(got['head.w']).toEqual({ dtype: 'F32', shape: [1, 2], values: [7, 8] });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toEqual({ model_type: 'toy', hidden: 3, num_labels: 1 });
    expect(readFileSync(join(out, 'config.json'), 'utf8')).toBe(`${JSON.stringify({ model_type: 'toy', hidden: 3, num_labels: 1 }, null, 2)}\n`);
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe('{"t":1}');
    expect(readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    // mergeIntoAsync (the form for backends that read asynchronously) writes the same files, byte for byte.
    const outAsync = join(root, 'new', 'merged-async');
    await mergeIntoAsync({ base, deltas: [{ delta: d1 }, { delta: d2, scale: 0.5 }], out: outAsync, config: { num_labels: 1 } });
    for (const file of ['model.safetensors', 'config.json', 'tokenizer.json']) expect(readFileSync(join(outAsync, file)).equals(readFileSync(join(out, file))), file).toBe(true);
    // Hugging Face's loaders read a checkpoint's metadata format 'pt' as PyTorch tensors.
    const f = SafetensorsFile.open(join(out, 'model.safetensors'));
    expect(f.metadata).toEqual({ format: 'pt' });
    f.close();
  });

  it("a task model's names (a prefix more or less than the base's) find the base tensor; a dense delta tensor replaces it, scaled", async () => {
    const base = checkpoint();
    const out = join(root, 'prefixed');
    const d = delta([0], [1], { name: 'transformer.h.0.w', dense: { 'transformer.h.0.b': { shape: [2], values: Float32Array.from([4.25, 1.5]) } } });
    await merge({ base, deltas: [{ delta: d, scale: 0.5, source: 'ft.safetensors' }], out });
    const got = readOut(out);
    expect(got['h.0.w'].values[0]).toBe(Math.fround(W[0] + 0.5));
    expect(got['h.0.w'].values.slice(1)).toEqual(W.slice(1));
    // P + s·(V − P), each op in float32.
    expect(got['h.0.b'].values).toEqual(B.map((p, i) => Math.fround(p + Math.fround(Math.fround([4.25, 1.5][i] - p) * 0.5))));
    expect(Object.keys(got).sort()).toEqual(['h.0.b', 'h.0.w']);
    // And the other way: a base saved with the prefix, a delta without.
    const prefixedBase = checkpoint({ 'model.h.0.w': { dtype: 'float32', shape: [2, 3], data: Float32Array.from(W) } });
    const out2 = join(root, 'prefixed2');
    await merge({ base: prefixedBase, deltas: [{ delta: delta([2], [1]) }], out: out2 });
    expect(readOut(out2)['model.h.0.w'].values[2]).toBe(3);
  });

  it('keeps an F16 base F16 (rounded as float16), and refuses a merge that would overflow it', async () => {
    const base = checkpoint({ 'h.0.w': { dtype: 'float32', shape: [2, 3], data: Float32Array.from(W) } }, 'F16');
    const out = join(root, 'half');
    await merge({ base, deltas: [{ delta: delta([3], [1 / 3]) }], out });
    const got = readOut(out)['h.0.w'];
    expect(got.dtype).toBe('F16');
    // 3.5 + fl32(1/3) = 3.8333332538604736 in float32, 3.833984375 in float16 (spacing 2^-9 in [2, 4)).
    expect(got.values[3]).toBe(3.833984375);
    const msg = await refusal({ base, deltas: [{ delta: delta([5], [70000]) }] }, NonFiniteError);
    expect(msg).toBe("merge: 'h.0.w' would hold Infinity (70001 stored as F16) at [1, 2] in the merged checkpoint; nothing written");
  });

  // A backend without float64 (WebGPU) cannot hold an F64 base's tensors: there mergeInto refuses it (DTypeError).
  it.runIf(backend.float64)('keeps an F64 base F64: a value float32 cannot hold (1e39) is finite there', async () => {
    const base = checkpoint({ 'h.0.w': { dtype: 'float64', shape: [2, 3], data: Float64Array.from([1e39, 0, 0, 0, 0, 0]) } });
    const out = join(root, 'f64');
    await merge({ base, deltas: [{ delta: delta([1], [0.5], { base: [1e39, 0, 0, 0, 0, 0].map(Math.fround) }) }], out, verifyBase: false });
    const got = readOut(out)['h.0.w'];
    expect(got.dtype).toBe('F64');
    expect(got.values.slice(0, 2)).toEqual([1e39, 0.5]);
    const outAsync = join(root, 'f64-async');
    await mergeIntoAsync({ base, deltas: [{ delta: delta([1], [0.5]) }], out: outAsync, verifyBase: false });
    expect(readOut(outAsync)['h.0.w']).toEqual(got);
  });

  it('refuses a base without config.json, a delta for a tensor the base lacks or of another shape', async () => {
    const base = checkpoint();
    const noConfig = join(root, 'noconfig');
    mkdirSync(noConfig);
    expect(await refusal({ base: noConfig, deltas: [] }, DeltaError)).toBe(`merge: ${join(noConfig, 'config.json')} not found (the base must be a checkpoint directory)`);
    expect(await refusal({ base, deltas: [{ delta: delta([0], [1], { name: 'h.1.w' }), source: 'a.safetensors' }] }, DeltaError)).toBe(
      `merge: a.safetensors: the base checkpoint ${base} has no tensor for 'h.1.w'`,
    );
    const wide = delta([0], [1]);
    wide.sparse['h.0.w'].shape = [3, 2];
    expect(await refusal({ base, deltas: [{ delta: delta([0], [1]) }, { delta: wide }] }, DeltaError)).toBe(`merge: delta 2: 'h.0.w' is [3, 2] in the delta but [2, 3] in ${base}; the delta was made from another model`);
    for (const shape of [[2, 4], [1, 3], [2, 3, 1], [6], [2]]) {
      const d = delta([0], [1]);
      d.sparse['h.0.w'].shape = shape;
      expect(await refusal({ base, deltas: [{ delta: d }] }, DeltaError), JSON.stringify(shape)).toBe(`merge: delta 1: 'h.0.w' is [${shape.join(', ')}] in the delta but [2, 3] in ${base}; the delta was made from another model`);
    }
    const denseWrong = delta([0], [1], { dense: { 'h.0.b': { shape: [3], values: Float32Array.from([1, 2, 3]) } } });
    expect(await refusal({ base, deltas: [{ delta: denseWrong }] }, DeltaError)).toBe(`merge: delta 1: 'h.0.b' is [3] in the delta but [2] in ${base}; the delta was made from another model`);
  });

  it('refuses a delta made from another base (by tensor, else by the whole fingerprint), unless verifyBase is false', async () => {
    const base = checkpoint();
    const other = W.map((w, i) => (i === 4 ? w + 1 : w));
    const fromOther = delta([4], [1], { base: other });
    const msg = await refusal({ base, deltas: [{ delta: fromOther, source: 'x.safetensors' }] }, DeltaError);
    expect(msg).toBe(`merge: x.safetensors: was made from another base than ${base} ('h.0.w' differs there: fingerprint ${tensorDigest('h.0.w', [2, 3], [4], W).slice(0, 16)}, expected ${fromOther.metadata.tensorFingerprints['h.0.w']})`);
    const combinedOnly: SparseDelta = { ...fromOther, metadata: { ...fromOther.metadata, tensorFingerprints: {} } };
    expect(await refusal({ base, deltas: [{ delta: combinedOnly }] }, DeltaError)).toBe(`merge: delta 1: was made from another base than ${base} (fingerprint mismatch)`);
    const out = join(root, 'unverified');
    await merge({ base, deltas: [{ delta: fromOther }], out, verifyBase: false });
    expect(readOut(out)['h.0.w'].values[4]).toBe(0.25);
    const out2 = join(root, 'nofingerprint');
    await merge({ base, deltas: [{ delta: { ...combinedOnly, metadata: { ...combinedOnly.metadata, fingerprint: '' } } }], out: out2 });
    expect(readOut(out2)['h.0.w'].values[4]).toBe(0.25);
  });

  it('refuses a base holding a NaN or an infinity, naming the file, the tensor and where', async () => {
    const bad = checkpoint({ 'h.0.w': { dtype: 'float32', shape: [2, 3], data: Float32Array.from([0, 1, 2, 3, Number.NaN, 5]) } });
    expect(await refusal({ base: bad, deltas: [] }, NonFiniteError)).toBe(`merge: ${join(bad, 'model.safetensors')}: 'h.0.w' holds NaN at [1, 1]; the base must be finite`);
  });

  it('merging into the base directory itself rewrites the weights and the config only', async () => {
    const base = checkpoint();
    await merge({ base, deltas: [{ delta: delta([0], [1]) }], out: base, config: { merged: true } });
    expect(readOut(base)['h.0.w'].values[0]).toBe(1.5);
    expect(JSON.parse(readFileSync(join(base, 'config.json'), 'utf8'))).toEqual({ model_type: 'toy', hidden: 3, merged: true });
    expect(readdirSync(base).sort()).toEqual(['config.json', 'extra.safetensors', 'model.safetensors', 'model.safetensors.bak', 'subdir', 'tokenizer.json']);
  });
});
