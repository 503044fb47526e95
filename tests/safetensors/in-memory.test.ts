import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { type HostTensor, SafetensorsError, SafetensorsFile, safetensorsBytes, saveSafetensors } from '@siftjs/safetensors';
import { deltaBytes, loadDelta, saveDelta, type SparseDelta } from '@siftjs/sift-optimizer';
import { afterAll, describe, expect, it } from 'vitest';
import '@siftjs/backend-cpu';

/**
 * The in-memory forms a browser uses — safetensorsBytes, SafetensorsFile.fromBytes, deltaBytes — against the file
 * forms the rest of the suite checks against the format's specification: the same bytes, the same values, the same
 * errors.
 */
const dir = mkdtempSync(join(tmpdir(), 'sift-st-mem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const path = () => join(dir, `f${fileNo++}.safetensors`);

const hostTensors = fc
  .dictionary(
    fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__metadata__' && !/\p{Cs}/u.test(k)),
    fc.oneof(
      fc.array(fc.float({ noNaN: true }), { maxLength: 12 }).map((v): HostTensor => ({ dtype: 'float32', shape: [v.length], data: Float32Array.from(v) })),
      fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 12 }).map((v): HostTensor => ({ dtype: 'int32', shape: [v.length], data: Int32Array.from(v) })),
    ),
    { maxKeys: 5 },
  )
  .map((d) => ({ ...d }) as Record<string, HostTensor>);

describe('safetensors in memory', () => {
  test.prop([hostTensors, fc.constantFrom('F32', 'F16', 'BF16') as fc.Arbitrary<'F32' | 'F16' | 'BF16'>])('safetensorsBytes is the file saveSafetensors writes, and fromBytes reads back what open reads', async (tensors, floatType) => {
    const p = path();
    saveSafetensors(p, tensors, { floatType, metadata: { k: 'v' } });
    const bytes = await safetensorsBytes('mem', tensors, { floatType, metadata: { k: 'v' } });
    expect(Buffer.compare(Buffer.from(bytes), readFileSync(p))).toBe(0);
    const [a, b] = [SafetensorsFile.open(p), SafetensorsFile.fromBytes('mem', bytes)];
    try {
      expect(b.keys()).toEqual(a.keys());
      expect(b.metadata).toEqual(a.metadata);
      for (const k of a.keys()) expect(b.readArray(k)).toEqual(a.readArray(k));
    } finally {
      a.close();
      b.close();
    }
  });

  it('truncated bytes are refused as a truncated file is, naming what stands for the path', async () => {
    const bytes = await safetensorsBytes('mem', { w: { dtype: 'float32', shape: [4], data: new Float32Array(4) } });
    const short = bytes.slice(0, bytes.length - 3);
    const p = path();
    writeFileSync(p, short);
    const fromFile = (() => {
      try {
        SafetensorsFile.open(p).readArray('w');
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(fromFile).toMatch(/run past the data section/);
    expect(() => SafetensorsFile.fromBytes('picked/model.safetensors', short).readArray('w')).toThrow(SafetensorsError);
    expect(() => SafetensorsFile.fromBytes('picked/model.safetensors', short).readArray('w')).toThrow(fromFile!.replace(p, 'picked/model.safetensors'));
    expect(() => SafetensorsFile.fromBytes('picked/model.safetensors', bytes.slice(0, 5))).toThrow('picked/model.safetensors: truncated: 5 bytes, shorter than the 8-byte header length');
  });

  it('deltaBytes is the file saveDelta writes, and it loads as a delta', async () => {
    const delta: SparseDelta = {
      sparse: { 'h.0.attn.c_attn.weight': { shape: [4, 6], indices: Int32Array.from([1, 5, 17]), values: Float32Array.from([0.5, -1.25, 3e-3]) } },
      dense: { 'score.weight': { shape: [2, 4], values: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) } },
      metadata: { density: 0.125, targets: ['attn.c_attn'], dense: ['score'], selection: 'fixed', fingerprint: 'abc', tensorFingerprints: { 'h.0.attn.c_attn.weight': 'def' } },
    };
    const p = path();
    saveDelta(p, delta);
    const bytes = await deltaBytes('delta.safetensors', delta);
    expect(Buffer.compare(Buffer.from(bytes), readFileSync(p))).toBe(0);
    expect(loadDelta(p).sparse['h.0.attn.c_attn.weight'].values).toEqual(delta.sparse['h.0.attn.c_attn.weight'].values);
  });
});

/** A Blob that records the byte ranges read from it (what a browser's File.slice would read from disk). */
function recordingBlob(bytes: Uint8Array): { blob: Blob; reads: [number, number][] } {
  const reads: [number, number][] = [];
  const whole = new Blob([bytes as BlobPart]);
  const blob = Object.create(whole) as Blob;
  Object.defineProperty(blob, 'size', { value: whole.size });
  blob.slice = (start?: number, end?: number) => {
    reads.push([start ?? 0, end ?? whole.size]);
    return whole.slice(start, end);
  };
  return { blob, reads };
}

describe('safetensors from a Blob (a file picked in a browser)', () => {
  test.prop([hostTensors])('fromBlob reads back what open reads, one tensor’s bytes at a time, and never the whole file', async (tensors) => {
    const p = path();
    saveSafetensors(p, tensors, { metadata: { k: 'v' } });
    const bytes = new Uint8Array(readFileSync(p));
    const { blob, reads } = recordingBlob(bytes);
    const [a, b] = [SafetensorsFile.open(p), await SafetensorsFile.fromBlob('picked.safetensors', blob)];
    try {
      expect(b.keys()).toEqual(a.keys());
      expect(b.metadata).toEqual(a.metadata);
      const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
      // Opening reads the length, then the header: nothing of the data.
      expect(reads.every(([, end]) => end <= headerEnd)).toBe(true);
      for (const k of a.keys()) {
        reads.length = 0;
        const t = await b.readAsync(k);
        expect(await t.toArray()).toEqual(a.read(k).toArraySync());
        t.dispose();
        const info = a.info(k);
        // Exactly that tensor's bytes were read.
        expect(reads).toEqual([[headerEnd + info.begin, headerEnd + info.end]]);
        expect(await b.readBytesAsync(k)).toEqual(a.readBytes(k));
      }
      const first = a.keys()[0];
      if (first !== undefined && a.info(first).end > a.info(first).begin) expect(() => b.read(first)).toThrow('picked.safetensors: is read asynchronously (a Blob): use readAsync');
    } finally {
      a.close();
      b.close();
    }
  });

  it('a truncated or malformed Blob is refused as the same bytes in memory are', async () => {
    const bytes = await safetensorsBytes('mem', { w: { dtype: 'float32', shape: [4], data: new Float32Array(4) } });
    const messageOf = async (f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    for (const cut of [bytes.slice(0, 5), bytes.slice(0, 20), bytes.slice(0, bytes.length - 3)]) {
      const viaBytes = await messageOf(async () => SafetensorsFile.fromBytes('m.safetensors', cut).readArray('w'));
      const viaBlob = await messageOf(async () => (await SafetensorsFile.fromBlob('m.safetensors', new Blob([cut as BlobPart]))).readAsync('w'));
      expect(viaBlob).toBe(viaBytes);
      expect(viaBlob).not.toBe('no error');
    }
  });
});
