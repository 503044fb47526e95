import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWeights, saveWeights, saveWeightsAsync } from '@siftjs/models';
import { SafetensorsError } from '@siftjs/safetensors';
import { applyDelta, DeltaError, extractDelta, loadDelta, mergeInto, mergeIntoAsync, removeDelta, SIFT, saveDelta } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, syncOrAsync } from '../support/backends.js';
import { bitsOf, lossOf, Net, weightsOf } from './net.js';
import { ascending, lcg, randomRows } from './reference.js';

/** Fine-tunes a Net from seed `seed` with SIFT; returns the trained net and its SIFT. */
function fineTune(seed: number, density: number, steps: number, reselect = false) {
  manualSeed(seed);
  const net = new Net();
  const sift = new SIFT(net, { density, targets: ['a', 'b.weight'], dense: ['b.bias'], lr: 0.05, weightDecay: 0.01, reselect: reselect ? { every: 2, fraction: 0.5 } : undefined });
  const next = lcg(seed + 7);
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

describe.each(backendsUnderTest())('sparse deltas on $name', (backend) => {
  beforeAll(() => backend.start());
  const dir = mkdtempSync(join(tmpdir(), 'sift-delta-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.prop([fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0.1, 0.4), fc.integer({ min: 1, max: 6 }), fc.boolean()], { numRuns: 10 })(
    'save → load → apply reproduces the fine-tuned weights bitwise; remove restores the base bitwise',
    async (seed, density, steps, reselect) => {
      const tuned = fineTune(seed, density, steps, reselect);
      const file = join(dir, `d-${seed}.safetensors`);
      saveDelta(file, await extractDelta(tuned.sift));
      const delta = loadDelta(file);
      expect(Object.keys(delta.sparse).sort()).toEqual(['a.weight', 'b.weight']);
      for (const [name, e] of Object.entries(delta.sparse)) {
        expect(e.indices.length).toBe(Math.ceil(density * e.shape[0] * e.shape[1]));
        // Training keeps the indices in the order chosen; the file stores them ascending, each once.
        expect(Array.from(e.indices), `${name}: indices ascending`).toEqual(ascending(Array.from(new Set(e.indices))));
      }
      expect(Object.keys(delta.dense)).toEqual(['b.bias']);

      const net = baseNet(seed);
      const base = await bitsOf(net);
      const applied = await applyDelta(net, delta);
      expect(await bitsOf(net)).toEqual(await bitsOf(tuned.net));
      removeDelta(applied);
      expect(await bitsOf(net)).toEqual(base);
      for (const m of [net, tuned.net]) m.dispose();
      tuned.sift.dispose();
    },
  );

  it('deltas compose and scale: base + s₁δ₁ + s₂δ₂, and removing them in reverse restores the base', async () => {
    const one = fineTune(1, 0.3, 3);
    const two = fineTune(1, 0.3, 5);
    const d1 = await extractDelta(one.sift);
    const d2 = await extractDelta(two.sift);
    const net = baseNet(1);
    const w0 = await weightsOf(net);
    const base = await bitsOf(net);
    const a1 = await applyDelta(net, d1, { scale: 0.5 });
    const a2 = await applyDelta(net, d2, { scale: 2, verifyBase: false });
    const w = await weightsOf(net);
    const expected = Float64Array.from(w0.a);
    for (const [d, s] of [[d1, 0.5], [d2, 2]] as const) d.sparse['a.weight'].indices.forEach((i, j) => (expected[i] += s * d.sparse['a.weight'].values[j]));
    w.a.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    removeDelta(a2);
    removeDelta(a1);
    expect(await bitsOf(net)).toEqual(base);
    for (const m of [net, one.net, two.net]) m.dispose();
    one.sift.dispose();
    two.sift.dispose();
  });

  it('F16 / BF16 storage rounds the increments to that precision', async () => {
    const tuned = fineTune(2, 0.3, 4);
    const exact = await extractDelta(tuned.sift);
    for (const [dtype, rel] of [['F16', 1e-3], ['BF16', 8e-3]] as const) {
      const file = join(dir, `d-${dtype}.safetensors`);
      saveDelta(file, exact, { dtype });
      const got = loadDelta(file);
      const want = exact.sparse['a.weight'].values;
      got.sparse['a.weight'].values.forEach((v, j) => expect(Math.abs(v - want[j])).toBeLessThanOrEqual(rel * Math.abs(want[j]) + 1e-7));
    }
    tuned.net.dispose();
    tuned.sift.dispose();
  });

  it('applying to another base fails naming the tensor, and changes nothing', async () => {
    const tuned = fineTune(3, 0.3, 2);
    const delta = await extractDelta(tuned.sift);
    const other = baseNet(99);
    const before = await bitsOf(other);
    await expect(applyDelta(other, delta)).rejects.toThrow(DeltaError);
    await expect(applyDelta(other, delta)).rejects.toThrow(/'a\.weight' differs from the base/);
    expect(await bitsOf(other)).toEqual(before);
    other.dispose();
    tuned.net.dispose();
    tuned.sift.dispose();
  });

  it('a malformed delta file names the file and the defect', async () => {
    const tuned = fineTune(4, 0.3, 1);
    const file = join(dir, 'bad.safetensors');
    saveDelta(file, await extractDelta(tuned.sift));
    const bytes = readFileSync(file);
    const text = bytes.toString('latin1').replace('siftjs-sparse-delta', 'siftjs-sparse-dalta');
    writeFileSync(file, Buffer.from(text, 'latin1'));
    expect(() => loadDelta(file)).toThrow(SafetensorsError);
    expect(() => loadDelta(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*not a sparse delta`));
    writeFileSync(file, bytes.subarray(0, bytes.length - 5));
    expect(() => loadDelta(file)).toThrow(SafetensorsError);
    tuned.net.dispose();
    tuned.sift.dispose();
  });

  it('mergeInto writes a plain checkpoint that loads as the fine-tuned model', async () => {
    const tuned = fineTune(5, 0.2, 3);
    const delta = await extractDelta(tuned.sift);
    const baseDir = join(dir, 'base');
    const outDir = join(dir, 'merged');
    const base = baseNet(5);
    await syncOrAsync(() => saveWeights(base, baseDir, { model_type: 'test-net' }), () => saveWeightsAsync(base, baseDir, { model_type: 'test-net' }));
    writeFileSync(join(baseDir, 'tokenizer.json'), '{"version":"1.0"}');
    const opts = { base: baseDir, deltas: [{ delta }], out: outDir, config: { fine_tuned: true } };
    await syncOrAsync(() => mergeInto(opts), () => mergeIntoAsync(opts));
    const merged = new Net();
    loadWeights(merged, outDir);
    expect(await bitsOf(merged)).toEqual(await bitsOf(tuned.net));
    expect(JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'))).toEqual({ model_type: 'test-net', fine_tuned: true });
    expect(readFileSync(join(outDir, 'tokenizer.json'), 'utf8')).toBe('{"version":"1.0"}');
    for (const m of [merged, base, tuned.net]) m.dispose();
    tuned.sift.dispose();
  });
});
