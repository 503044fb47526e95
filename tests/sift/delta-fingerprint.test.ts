/**
 * What a delta records about its base, and how applying it checks and uses that, against values from outside the
 * library: SHA-256 from node:crypto over the bytes the format documents (per tensor: `name \0 shape-joined-by-x \0`,
 * the int32 indices and the float32 base values at them, little-endian; for the base: `name:digest` lines in name
 * order), and float64 arithmetic for a scaled dense tensor, P + s·(V − P).
 */
import { createHash } from 'node:crypto';
import { applyDelta, DeltaError, extractDelta, removeDelta, SIFT, type SparseDelta } from '@siftjs/sift-optimizer';
import { manualSeed, noGrad, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { bitsOf, lossOf, Net, weightsOf } from './net.js';
import { lcg, randomRows } from './reference.js';

function sha256(...chunks: Buffer[]): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

function int32le(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeInt32LE(values[i], i * 4);
  return b;
}

function float32le(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i], i * 4);
  return b;
}

function fineTune(seed: number, steps: number) {
  manualSeed(seed);
  const net = new Net();
  const sift = new SIFT(net, { density: 0.3, targets: ['a', 'b.weight'], dense: ['b.bias'], lr: 0.05 });
  const next = lcg(seed + 1);
  for (let t = 0; t < steps; t++) {
    lossOf(net, randomRows(next, 3)).backward();
    sift.step();
    sift.zeroGrad();
  }
  return { net, sift };
}

function baseNet(seed: number): Net {
  manualSeed(seed);
  return new Net();
}

describe.each(backendsUnderTest())('delta fingerprints and application on $name', (backend) => {
  beforeAll(() => backend.start());

  it("extractDelta's fingerprints are SHA-256 of the documented bytes of the base", async () => {
    const tuned = fineTune(1, 2);
    const delta = await extractDelta(tuned.sift);
    const baseModel = baseNet(1);
    const base = await weightsOf(baseModel);
    baseModel.dispose();
    const shapes: Record<string, number[]> = { 'a.weight': [4, 5], 'b.weight': [3, 4] };
    const perTensor: Record<string, string> = {};
    for (const [name, key] of [['a.weight', 'a'], ['b.weight', 'b']] as const) {
      const e = delta.sparse[name];
      expect(e.shape).toEqual(shapes[name]);
      const idx = Array.from(e.indices);
      perTensor[name] = sha256(Buffer.from(`${name}\u0000${shapes[name].join('x')}\u0000`), int32le(idx), float32le(idx.map((i) => base[key][i])));
    }
    expect(delta.metadata.tensorFingerprints).toEqual({ 'a.weight': perTensor['a.weight'].slice(0, 16), 'b.weight': perTensor['b.weight'].slice(0, 16) });
    expect(delta.metadata.fingerprint).toBe(sha256(Buffer.from(`a.weight:${perTensor['a.weight']}\nb.weight:${perTensor['b.weight']}`)));
    expect(delta.metadata).toMatchObject({ density: 0.3, targets: ['a', 'b.weight'], dense: ['b.bias'], selection: 'first-batch' });
    tuned.net.dispose();
    tuned.sift.dispose();
  });

  it('a sparse tensor never chosen is left out of the delta', async () => {
    manualSeed(2);
    const net = new Net();
    const sift = new SIFT(net, { density: 0.3, targets: ['a'] });
    const delta = await extractDelta(sift);
    expect(delta.sparse).toEqual({});
    expect(delta.dense).toEqual({});
    expect(delta.metadata.fingerprint).toBe(sha256(Buffer.from('')));
    sift.dispose();
    net.dispose();
  });

  it('refuses a delta for a parameter the model lacks or of another shape, before writing anything', async () => {
    const tuned = fineTune(3, 1);
    const delta = await extractDelta(tuned.sift);
    const net = baseNet(3);
    const before = await bitsOf(net);
    const renamed: SparseDelta = { ...delta, sparse: { 'c.weight': delta.sparse['a.weight'] } };
    await expect(applyDelta(net, renamed)).rejects.toThrow(new DeltaError("sparse delta: the model has no parameter 'c.weight'"));
    const denseRenamed: SparseDelta = { ...delta, dense: { 'b.other': delta.dense['b.bias'] } };
    await expect(applyDelta(net, denseRenamed, { verifyBase: false })).rejects.toThrow(/the model has no parameter 'b\.other'/);
    for (const shape of [[5, 4], [20], [4, 5, 1], [4, 6], [3, 5], [2, 10]]) {
      const reshaped: SparseDelta = { ...delta, sparse: { 'a.weight': { ...delta.sparse['a.weight'], shape } } };
      await expect(applyDelta(net, reshaped, { verifyBase: false })).rejects.toThrow(
        new RegExp(`'a\\.weight' is \\[${shape.join(', ')}\\] in the delta but \\[4, 5\\] in the model; the delta was made from another model`),
      );
    }
    const denseShape: SparseDelta = { ...delta, dense: { 'b.bias': { ...delta.dense['b.bias'], shape: [1, 3] } } };
    await expect(applyDelta(net, denseShape, { verifyBase: false })).rejects.toThrow(/'b\.bias' is \[1, 3\] in the delta but \[3\] in the model/);
    expect(await bitsOf(net)).toEqual(before);
    net.dispose();
    tuned.net.dispose();
    tuned.sift.dispose();
  });

  it('checks the base by tensor when it can, by the whole fingerprint otherwise; verifyBase: false skips both', async () => {
    const tuned = fineTune(4, 2);
    const delta = await extractDelta(tuned.sift);
    const net = baseNet(4);
    const before = await bitsOf(net);
    // Another base at one chosen component of b.weight only.
    const at = delta.sparse['b.weight'].indices[0];
    noGrad(() => net.b.weight.copy_(net.b.weight.add(tensor(Array.from({ length: 12 }, (_, i) => (i === at ? 0.125 : 0)), { shape: [3, 4] }))));
    const changed = await bitsOf(net);
    expect(changed).not.toEqual(before);
    const tensorFp = await applyDelta(net, delta).catch((e: Error) => e);
    expect(tensorFp).toBeInstanceOf(DeltaError);
    expect((tensorFp as Error).message).toMatch(/^sparse delta: 'b\.weight' differs from the base the delta was made from \(fingerprint [0-9a-f]{16}, expected [0-9a-f]{16}\)$/);
    expect((tensorFp as Error).message).toContain(`expected ${delta.metadata.tensorFingerprints['b.weight']}`);
    // Without per-tensor fingerprints, the combined one catches it.
    const combinedOnly: SparseDelta = { ...delta, metadata: { ...delta.metadata, tensorFingerprints: {} } };
    await expect(applyDelta(net, combinedOnly)).rejects.toThrow(new DeltaError('sparse delta: the model is not the base the delta was made from (fingerprint mismatch)'));
    expect(await bitsOf(net)).toEqual(changed);
    // With neither, or with verifyBase false, it applies.
    const unchecked: SparseDelta = { ...delta, metadata: { ...delta.metadata, tensorFingerprints: {}, fingerprint: '' } };
    removeDelta(await applyDelta(net, unchecked));
    removeDelta(await applyDelta(net, delta, { verifyBase: false }));
    expect(await bitsOf(net)).toEqual(changed);
    net.dispose();
    tuned.net.dispose();
    tuned.sift.dispose();
  });

  it('scale s interpolates a dense tensor, P + s·(V − P), and adds s·δ to the sparse ones; removing restores the base', async () => {
    const tuned = fineTune(5, 3);
    const delta = await extractDelta(tuned.sift);
    const net = baseNet(5);
    const w0 = await weightsOf(net);
    const before = await bitsOf(net);
    const applied = await applyDelta(net, delta, { scale: 0.25 });
    const w = await weightsOf(net);
    const v = delta.dense['b.bias'].values;
    w.c.forEach((x, i) => expect(x).toBeCloseTo(w0.c[i] + 0.25 * (v[i] - w0.c[i]), 6));
    const e = delta.sparse['a.weight'];
    const expected = Float64Array.from(w0.a);
    e.indices.forEach((i, j) => (expected[i] += 0.25 * e.values[j]));
    w.a.forEach((x, i) => expect(x).toBeCloseTo(expected[i], 6));
    removeDelta(applied);
    expect(applied.entries).toEqual([]);
    expect(await bitsOf(net)).toEqual(before);
    net.dispose();
    tuned.net.dispose();
    tuned.sift.dispose();
  });

  it('removing after the weights changed again subtracts exactly the change applying made', async () => {
    const tuned = fineTune(6, 2);
    const delta = await extractDelta(tuned.sift);
    const net = baseNet(6);
    const w0 = await weightsOf(net);
    const applied = await applyDelta(net, delta);
    // Something else moves every weight of a by +1 (exactly representable steps for these magnitudes).
    noGrad(() => net.a.weight.copy_(net.a.weight.add(1)));
    const moved = await weightsOf(net);
    removeDelta(applied);
    const w = await weightsOf(net);
    const e = delta.sparse['a.weight'];
    const chosen = new Set(e.indices);
    // Unchosen components only took the +1; chosen ones lose exactly what applying wrote minus what was there.
    w.a.forEach((x, i) => {
      if (!chosen.has(i)) expect(x).toBe(moved.a[i]);
      else expect(x).toBeCloseTo(w0.a[i] + 1, 5);
    });
    // The dense bias still held what applying wrote: its original returns bit for bit.
    expect(Array.from(w.c)).toEqual(Array.from(w0.c));
    net.dispose();
    tuned.net.dispose();
    tuned.sift.dispose();
  });
});
