import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { SafetensorsError, SafetensorsFile } from '@siftjs/safetensors';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFile, fuzzCase } from '../support/safetensors-mutations.js';
import { judgeSafetensors, type SpecTensor, type SpecVerdict } from '../support/safetensors-spec.js';

/*
 * Every outcome of the reader against the spec validator (tests/support/safetensors-spec.ts), on valid files and
 * mutations of them (tests/support/safetensors-mutations.ts): the reader opens exactly the files the validator deems
 * valid, with the same names, dtypes, shapes, bytes and metadata, and rejects every other file with a
 * SafetensorsError naming it. Loading a tensor follows the documented policy below, checked against values decoded
 * here from the IEEE / two's-complement definitions.
 */

const dir = mkdtempSync(join(tmpdir(), 'sift-st-fuzz-'));
const path = join(dir, 'fuzzed.safetensors');
// One file rewritten in place for every case, written over and then cut to length: truncating a file to 0 bytes
// and closing it (writeFileSync, or the reader's close after ftruncate(0)) makes ext4 flush it, ~4 ms a file.
const writer = openSync(path, 'w');
afterAll(() => {
  closeSync(writer);
  rmSync(dir, { recursive: true, force: true });
});

/** The largest dimension siftjs represents (a JS number); larger ones occur only in empty tensors. */
const MAX_DIM = BigInt(Number.MAX_SAFE_INTEGER);

/** How a name appears in a message: as the inside of its JSON string (one line, whatever it holds). */
const shown = (name: string) => JSON.stringify(name).slice(1, -1);

/** The values loading a tensor gives, by the documented policy, or the error it must give. */
function expectedLoad(t: SpecTensor): { values: number[] } | { error: string } {
  const v = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const n = (bytesEach: number) => t.bytes.length / bytesEach;
  const each = (bytesEach: number, get: (i: number) => number) => Array.from({ length: n(bytesEach) }, (_, i) => get(i * bytesEach));
  const narrow = (values: bigint[]) => {
    const bad = values.find((x) => x < -(2n ** 31n) || x >= 2n ** 31n);
    return bad === undefined ? { values: values.map(Number) } : { error: String(bad) };
  };
  switch (t.dtype) {
    case 'F64': return { values: each(8, (i) => v.getFloat64(i, true)) };
    case 'F32': return { values: each(4, (i) => v.getFloat32(i, true)) };
    case 'F16': return { values: each(2, (i) => half(v.getUint16(i, true))) };
    case 'BF16': return { values: each(2, (i) => new DataView(new Uint8Array([0, 0, t.bytes[i], t.bytes[i + 1]]).buffer).getFloat32(0, true)) };
    case 'BOOL': return { values: [...t.bytes].map((b) => (b === 0 ? 0 : 1)) };
    case 'I8': return { values: each(1, (i) => v.getInt8(i)) };
    case 'U8': return { values: each(1, (i) => v.getUint8(i)) };
    case 'I16': return { values: each(2, (i) => v.getInt16(i, true)) };
    case 'U16': return { values: each(2, (i) => v.getUint16(i, true)) };
    case 'I32': return { values: each(4, (i) => v.getInt32(i, true)) };
    case 'U32': return narrow(each(4, (i) => v.getUint32(i, true)).map(BigInt));
    case 'I64': return narrow(Array.from({ length: n(8) }, (_, i) => v.getBigInt64(8 * i, true)));
    case 'U64': return narrow(Array.from({ length: n(8) }, (_, i) => v.getBigUint64(8 * i, true)));
    default: return { error: t.dtype }; // F4, F6_*, F8_*, C64: no tensor dtype here holds them
  }
}

/** IEEE 754 binary16, from its definition. */
function half(h: number): number {
  const sign = h >> 15 ? -1 : 1;
  const e = (h >> 10) & 31;
  const f = h & 1023;
  if (e === 31) return f ? NaN : sign * Infinity;
  return e === 0 ? sign * 2 ** -14 * (f / 1024) : sign * 2 ** (e - 15) * (1 + f / 1024);
}

const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
const bytesEqual = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** What the reader did with the file at `path`, judged against the validator's verdict: 'agree: …' or 'disagree: …'. */
function outcome(verdict: SpecVerdict): string {
  const beyondLimits = verdict.valid && [...verdict.tensors.values()].some((t) => t.shape.some((d) => d > MAX_DIM));
  let f: SafetensorsFile;
  try {
    f = SafetensorsFile.open(path);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) return `disagree: open threw ${(e as Error).name ?? typeof e}`;
    if (verdict.valid && !beyondLimits) return `disagree: rejected a valid file (${e.defect.replace(/'[^']*'/g, "'…'")})`;
    if (!e.message.includes(path)) return 'disagree: rejected, but the message does not name the file';
    if (e.message.includes('\n')) return 'disagree: rejected, but the message is more than one line';
    if (beyondLimits) return /dimension/.test(e.message) ? 'agree: valid, beyond the reader’s limits, rejected' : `disagree: beyond limits, wrong message: ${e.message}`;
    return 'agree: invalid, rejected';
  }
  try {
    if (!verdict.valid) return `disagree: accepted an invalid file (${verdict.reason})`;
    if (beyondLimits) return 'disagree: accepted a dimension beyond 2^53 - 1';
    const keys = f.keys();
    if (keys.length !== verdict.tensors.size || !keys.every((k) => verdict.tensors.has(k))) return 'disagree: different tensor names';
    const meta = Object.entries(f.metadata);
    if (meta.length !== verdict.metadata.size || !meta.every(([k, v]) => verdict.metadata.get(k) === v)) return 'disagree: different metadata';
    for (const [name, t] of verdict.tensors) {
      const info = f.info(name);
      if (info.dtype !== t.dtype || info.shape.join() !== t.shape.join()) return 'disagree: different dtype or shape';
      if (!bytesEqual(f.readBytes(name), t.bytes)) return 'disagree: different bytes';
      const want = expectedLoad(t);
      let got: ArrayLike<number>;
      try {
        got = f.readArray(name);
      } catch (e) {
        if (!(e instanceof SafetensorsError)) return `disagree: loading ${t.dtype} threw ${(e as Error).name}`;
        if (!('error' in want)) return `disagree: loading ${t.dtype} failed (${e.defect})`;
        if (!e.message.includes(path) || !e.message.includes(`'${shown(name)}'`) || !e.message.includes(want.error)) return `disagree: load error lacks the file, tensor or ${want.error}`;
        continue;
      }
      if ('error' in want) return `disagree: loaded ${t.dtype} that should fail (${want.error})`;
      if (got.length !== want.values.length || !want.values.every((x, i) => same(got[i], x))) return `disagree: wrong ${t.dtype} values`;
    }
    return 'agree: valid, same tensors';
  } finally {
    f.close();
  }
}

function judgeFile(bytes: Uint8Array): { verdict: SpecVerdict; result: string; ms: number } {
  writeSync(writer, bytes, 0, bytes.length, 0);
  ftruncateSync(writer, bytes.length);
  const verdict = judgeSafetensors(bytes);
  const t0 = performance.now();
  const result = outcome(verdict);
  return { verdict, result, ms: performance.now() - t0 };
}

describe('safetensors reader against the spec validator', () => {
  // About 4 s of CPU time (sampling 0.4, building 1.1, validating 0.8, reading 1.4); the timeout allows for a busy machine.
  it('13,500 files, 10,000 of them mutated (fixed seed): every outcome agrees with the validator; none takes over a second', { timeout: 180_000 }, () => {
    const runs = 13_500;
    const tally = new Map<string, number>();
    const examples: string[] = [];
    let [slowest, mutated, deemedValid] = [0, 0, 0];
    fc.sample(fuzzCase, { numRuns: runs, seed: 16 }).forEach(([spec, mutations], i) => {
      const bytes = buildFile(spec, mutations);
      const { verdict, result, ms } = judgeFile(bytes);
      slowest = Math.max(slowest, ms);
      if (mutations.length) mutated++;
      if (verdict.valid) deemedValid++;
      tally.set(result, (tally.get(result) ?? 0) + 1);
      if (result.startsWith('disagree') && examples.length < 8) {
        examples.push(`#${i} ${result}: ${mutations.map((m) => m.kind).join(', ') || 'no mutation'}: ${Buffer.from(bytes.subarray(0, 400)).toString('latin1')}`);
      }
    });
    const lines = [...tally].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${String(n).padStart(6)}  ${k}`);
    console.log(`safetensors fuzz: ${runs} files (${mutated} mutated); the validator deems ${deemedValid} valid, ${runs - deemedValid} invalid; slowest ${slowest.toFixed(1)} ms\n${lines.join('\n')}`);
    expect(examples, `${lines.join('\n')}\n${examples.join('\n')}`).toEqual([]);
    // Both kinds of file are common, so neither side of the check is left untried.
    const count = (prefix: string) => [...tally].filter(([k]) => k.startsWith(prefix)).reduce((a, [, n]) => a + n, 0);
    expect(count('agree: valid')).toBeGreaterThan(runs / 5);
    expect(count('agree: invalid')).toBeGreaterThan(runs / 2);
    expect(mutated).toBeGreaterThanOrEqual(10_000);
    expect(slowest).toBeLessThan(1000); // a hang, not a busy machine's pause
  });

  // A random seed each run, shrunk to the smallest failing file when one disagrees.
  test.prop([fuzzCase], { numRuns: 300 })('random mutated files: the reader agrees with the validator', ([spec, mutations]) => {
    expect(judgeFile(buildFile(spec, mutations)).result).toMatch(/^agree/);
  });
});
