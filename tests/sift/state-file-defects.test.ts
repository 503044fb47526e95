/**
 * SIFT state files that cannot be resumed (docs: format 'siftjs-sift-state', version 2, the counters as JSON, the
 * tensors under sparse/NAME/…, dense/…, dense_grad/…, dense_optimizer/I/…): each is refused with a SafetensorsError
 * naming the file and what is wrong, before anything is restored. The files are a real save rewritten with one
 * defect each.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HostTensor, SafetensorsError, SafetensorsFile, saveSafetensors } from '@siftjs/safetensors';
import { loadState, SIFT, type SIFTOptions, STATE_FORMAT, saveState, saveStateAsync } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, syncOrAsync } from '../support/backends.js';
import { bitsOf, lossOf, Net } from './net.js';
import { lcg, randomRows } from './reference.js';

const OPTS: SIFTOptions = { density: 0.25, targets: ['a'], dense: ['b'], lr: 0.01 };

function trained(opts: SIFTOptions = OPTS) {
  manualSeed(3);
  const net = new Net();
  const sift = new SIFT(net, opts);
  const next = lcg(5);
  for (let t = 0; t < 2; t++) {
    lossOf(net, randomRows(next, 2)).backward();
    sift.step();
    sift.zeroGrad();
  }
  return { net, sift };
}

function fresh(opts: SIFTOptions = OPTS) {
  manualSeed(3);
  const net = new Net();
  return { net, sift: new SIFT(net, opts) };
}

interface Saved {
  tensors: Record<string, HostTensor>;
  metadata: Record<string, string>;
}

describe.each(backendsUnderTest())('loadState on a state it cannot resume, on $name', (backend) => {
  const dir = mkdtempSync(join(tmpdir(), 'sift-state-defects-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let saved: Saved;
  let files = 0;

  beforeAll(async () => {
    await backend.start();
    const { net, sift } = trained();
    const path = join(dir, 'good.safetensors');
    await syncOrAsync(
      () => saveState(sift, path),
      () => saveStateAsync(sift, path),
    );
    const f = SafetensorsFile.open(path);
    saved = { tensors: {}, metadata: { ...f.metadata } };
    for (const key of f.keys()) {
      const info = f.info(key);
      saved.tensors[key] = { dtype: info.dtype === 'F64' ? 'float64' : info.dtype === 'I32' ? 'int32' : 'float32', shape: info.shape, data: f.readArray(key) };
    }
    f.close();
    sift.dispose();
    net.dispose();
  });

  function write(edit: (s: Saved) => void): string {
    const s: Saved = { tensors: { ...saved.tensors }, metadata: { ...saved.metadata } };
    edit(s);
    const path = join(dir, `s${files++}.safetensors`);
    saveSafetensors(path, s.tensors, { metadata: s.metadata });
    return path;
  }

  /** The error loadState throws into a fresh SIFT (whose weights it must leave as they were). */
  async function refusal(path: string, opts: SIFTOptions = OPTS): Promise<string> {
    const { net, sift } = fresh(opts);
    const before = await bitsOf(net);
    let message = '';
    try {
      loadState(sift, path);
    } catch (e) {
      expect(e).toBeInstanceOf(SafetensorsError);
      message = (e as Error).message;
    }
    expect(message, 'refused').not.toBe('');
    expect(message).toContain(path);
    expect(await bitsOf(net), 'nothing restored').toEqual(before);
    sift.dispose();
    net.dispose();
    return message;
  }

  it('the unedited rewrite resumes (the edits below are the only defects)', async () => {
    const path = write(() => {});
    const { net, sift } = fresh();
    loadState(sift, path);
    const { net: ref, sift: refSift } = trained();
    expect(await bitsOf(net)).toEqual(await bitsOf(ref));
    expect(sift.stateDict().step).toBe(2);
    for (const s of [sift, refSift]) s.dispose();
    for (const m of [net, ref]) m.dispose();
  });

  it('a SIFT without dense parameters saves and resumes (no dense optimizer to save)', async () => {
    const opts: SIFTOptions = { density: 0.25, targets: ['a', 'b'], lr: 0.01 };
    const { net, sift } = trained(opts);
    const path = join(dir, 'sparse-only.safetensors');
    await syncOrAsync(
      () => saveState(sift, path),
      () => saveStateAsync(sift, path),
    );
    // saveStateAsync (for backends that read asynchronously) writes the same file, byte for byte.
    const asyncPath = join(dir, 'sparse-only-async.safetensors');
    await saveStateAsync(sift, asyncPath);
    expect(readFileSync(asyncPath).equals(readFileSync(path))).toBe(true);
    const f = SafetensorsFile.open(path);
    expect(f.keys().some((k) => k.startsWith('dense'))).toBe(false);
    expect(JSON.parse(f.metadata.counters).denseGroups).toBeNull();
    f.close();
    const again = fresh(opts);
    loadState(again.sift, path);
    expect(await bitsOf(again.net)).toEqual(await bitsOf(net));
    for (const s of [sift, again.sift]) s.dispose();
    for (const m of [net, again.net]) m.dispose();
  });

  it('another format or version, counters missing or not JSON', async () => {
    expect(saved.metadata.format).toBe('siftjs-sift-state');
    expect(saved.metadata.format).toBe(STATE_FORMAT);
    expect(saved.metadata.version).toBe('2');
    expect(await refusal(write((s) => (s.metadata.format = 'siftjs-sparse-delta')))).toMatch(/not a SIFT state \(metadata format is 'siftjs-sparse-delta'\)/);
    expect(await refusal(write((s) => delete s.metadata.format))).toMatch(/metadata format is 'absent'/);
    expect(await refusal(write((s) => (s.metadata.version = '1')))).toMatch(/SIFT state version 1 cannot be resumed by this version \(it reads 2\); start the run again/);
    expect(await refusal(write((s) => delete s.metadata.version))).toMatch(/SIFT state version absent cannot be resumed/);
    expect(await refusal(write((s) => (s.metadata.counters = '{"step": 2')))).toMatch(/metadata 'counters' is missing or not valid JSON/);
    expect(await refusal(write((s) => delete s.metadata.counters))).toMatch(/metadata 'counters' is missing or not valid JSON/);
  });

  it('saved with another density, other targets or another selection', async () => {
    const good = write(() => {});
    expect(await refusal(good, { ...OPTS, density: 0.5 })).toMatch(/SIFT state was saved with density 0.25, this SIFT has 0.5/);
    expect(await refusal(good, { ...OPTS, targets: ['a', 'b.weight'], dense: ['b.bias'] })).toMatch(/SIFT state was saved with targets \["a"\], this SIFT has \["a","b.weight"\]/);
    expect(await refusal(good, { ...OPTS, selection: { accumulate: 2 } })).toMatch(/SIFT state was saved with selection first-batch, this SIFT has accumulate:2/);
  });

  it('a tensor of no sparse parameter, or of no kind a state holds', async () => {
    const some = Object.keys(saved.tensors).find((k) => k.startsWith('sparse/a.weight/')) as string;
    expect(some).toBeDefined();
    const moved = some.replace('sparse/a.weight/', 'sparse/z.weight/');
    expect(await refusal(write((s) => (s.tensors[moved] = s.tensors[some])))).toMatch(new RegExp(`tensor '${moved}' belongs to no sparse parameter in the metadata`));
    expect(await refusal(write((s) => (s.tensors['extra/a'] = s.tensors[some])))).toMatch(/unexpected tensor 'extra\/a' in a SIFT state/);
  });
});
