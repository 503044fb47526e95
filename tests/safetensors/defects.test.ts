import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsError, SafetensorsFile, saveSafetensors } from '@siftjs/safetensors';
import { afterAll, describe, expect, it } from 'vitest';

/*
 * One file per defect the format forbids (huggingface/safetensors README "Format" and tensor.rs), each opened by the
 * reader: a SafetensorsError whose one-line message names the file and says what is wrong. Then what loading does
 * with every dtype the format lists, and the writer refusing inputs that would make a forbidden file.
 */

const dir = mkdtempSync(join(tmpdir(), 'sift-st-defects-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A file from raw header bytes (or text) and data bytes, with the header length given or the true one. */
function rawFile(header: string | Uint8Array, data: Uint8Array | number = 0, length?: bigint): string {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  const p = join(dir, `defect-${n++}.safetensors`);
  writeFileSync(p, out);
  return p;
}

const entry = (name: string, dtype: string, shape: number[] | string, begin: number, end: number) =>
  `${JSON.stringify(name)}:{"dtype":"${dtype}","shape":${Array.isArray(shape) ? JSON.stringify(shape) : shape},"data_offsets":[${begin},${end}]}`;

/** The error `fn` throws: a SafetensorsError, one line, naming `file`, its message matching `defect`. */
function expectDefect(file: string, fn: () => unknown, defect: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, 'throws').toBeInstanceOf(SafetensorsError);
  const message = (error as Error).message;
  expect(message.startsWith(`${file}: `), message).toBe(true);
  expect(message).not.toContain('\n');
  expect(message).toMatch(defect);
}

const opening = (p: string, defect: RegExp) => expectDefect(p, () => SafetensorsFile.open(p).close(), defect);

describe('the reader rejects what the format forbids, naming the file and the defect', () => {
  it('a path that is missing, a directory, or a FIFO (whose open would block): no file to read', () => {
    opening(join(dir, 'absent.safetensors'), /: not found$/);
    opening(dir, /is a directory, not a safetensors file/);
    const fifo = join(dir, 'fifo.safetensors');
    execFileSync('mkfifo', [fifo]);
    opening(fifo, /is not a regular file, not a safetensors file/);
  });

  it('duplicate tensor keys (JSON.parse would keep the last: two tensors’ data swapped without a word)', () => {
    opening(rawFile(`{${entry('a', 'U8', [1], 0, 1)},${entry('b', 'U8', [1], 1, 2)},${entry('a', 'U8', [1], 1, 2)}}`, 2), /tensor 'a' appears twice in the header/);
  });

  it('duplicate keys inside an entry and inside __metadata__, and __metadata__ twice', () => {
    opening(rawFile('{"a":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}', 1), /tensor 'a': field 'dtype' appears twice/);
    opening(rawFile(`{"__metadata__":{"k":"v","k":"w"},${entry('a', 'U8', [1], 0, 1)}}`, 1), /__metadata__ key 'k' appears twice/);
    opening(rawFile(`{"__metadata__":{},${entry('a', 'U8', [1], 0, 1)},"__metadata__":{}}`, 1), /'__metadata__' appears twice/);
  });

  it('invalid UTF-8 in the header (a name would come back with U+FFFD)', () => {
    const bytes = new TextEncoder().encode(`{${entry('aXb', 'U8', [1], 0, 1)}}`);
    bytes[3] = 0xff; // the X
    opening(rawFile(bytes, 1), /the header is not valid UTF-8/);
    const surrogate = Uint8Array.from([...new TextEncoder().encode('{"'), 0xed, 0xa0, 0x80, ...new TextEncoder().encode(`":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`)]);
    opening(rawFile(surrogate, 1), /not valid UTF-8/);
  });

  it('a \\u escape of a lone surrogate in a name', () => {
    opening(rawFile('{"a\\ud800":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1), /invalid header JSON \(\\ud800 is a lone high surrogate/);
  });

  it('__metadata__ as an array, as another non-object, or with a non-string value', () => {
    opening(rawFile(`{"__metadata__":["format","pt"],${entry('a', 'U8', [1], 0, 1)}}`, 1), /__metadata__ is an array, not an object of strings/);
    opening(rawFile(`{"__metadata__":null,${entry('a', 'U8', [1], 0, 1)}}`, 1), /__metadata__ is null, not an object of strings/);
    opening(rawFile(`{"__metadata__":{"step":3},${entry('a', 'U8', [1], 0, 1)}}`, 1), /__metadata__ value 'step' is a number, not a string/);
    opening(rawFile(`{"__metadata__":{"k":{"x":"y"}},${entry('a', 'U8', [1], 0, 1)}}`, 1), /__metadata__ value 'k' is an object, not a string/);
  });

  it('element counts that overflow (the running product past 2^64 - 1, or the bit count)', () => {
    const big = 4294967296; // 2^32: two of them make 2^64
    opening(rawFile(`{${entry('a', 'U8', `[${big},${big},0]`, 0, 0)}}`), /tensor 'a': shape \[4294967296, 4294967296, 0\] overflows: its element count passes 2\^64 - 1/);
    opening(rawFile(`{${entry('a', 'F64', '[2305843009213693952]', 0, 0)}}`), /shape \[2305843009213693952\] overflows: 2305843009213693952 elements of F64 pass 2\^64 - 1 bits/);
  });

  it('integers that are not plain non-negative digits in shapes and offsets', () => {
    opening(rawFile(`{${entry('a', 'U8', '[4.0]', 0, 4)}}`, 4), /tensor 'a': shape \[4\.0\] is not a list of non-negative integers/);
    opening(rawFile(`{${entry('a', 'U8', [4], 0, 4).replace('[0,4]', '[0,4e0]')}}`, 4), /data_offsets \[0,4e0\] are not \[begin, end\]/);
    opening(rawFile(`{${entry('a', 'U8', [4], 0, 4).replace('[0,4]', '[0,18446744073709551620]')}}`, 4), /data_offsets .* are not \[begin, end\]/);
  });

  it('a dimension past 2^53 - 1 in an empty tensor: valid in the format, past what siftjs represents', () => {
    opening(rawFile(`{${entry('a', 'U8', '[0,9007199254740993]', 0, 0)}}`), /tensor 'a': shape \[0, 9007199254740993\] has dimension 9007199254740993, larger than 2\^53 - 1/);
  });

  it('unknown dtypes, and an entry with an unknown, missing or mistyped field', () => {
    opening(rawFile(`{${entry('a', 'F7', [1], 0, 4)}}`, 4), /tensor 'a': unknown dtype 'F7'/);
    opening(rawFile(`{${entry('a', 'f32', [1], 0, 4)}}`, 4), /tensor 'a': unknown dtype 'f32'/);
    opening(rawFile('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"strides":[1]}}', 1), /tensor 'a': unknown field 'strides'/);
    opening(rawFile('{"a":{"dtype":"U8","data_offsets":[0,1]}}', 1), /tensor 'a': missing field 'shape'/);
    opening(rawFile('{"a":[0,1]}', 1), /tensor 'a': entry is an array, not an object/);
  });

  it('header length: 0, past the end of the file, past the 100,000,000-byte limit', () => {
    opening(rawFile('', 0), /the header is empty/);
    opening(rawFile('{}', 0, 1000n), /header length 1000 runs past the end of the file \(10 bytes\)/);
    opening(rawFile('{}', 0, 1n << 63n), /header length 9223372036854775808 is larger than the 100000000-byte limit/);
    opening(rawFile('{}', 0, 100_000_001n), /header length 100000001 is larger than the 100000000-byte limit/);
  });

  it('a header that is not a JSON object, or does not begin with "{" (a leading space, a byte-order mark)', () => {
    opening(rawFile('[]'), /the header does not begin with '\{' \(its first byte is 0x5b\)/);
    opening(rawFile(' {}'), /its first byte is 0x20/);
    opening(rawFile('\ufeff{}'), /its first byte is 0xef/);
    opening(rawFile('{"a":1'), /invalid header JSON/);
  });

  it('padding: spaces after the object are allowed, anything else is not', () => {
    const ok = rawFile(`{${entry('a', 'U8', [1], 0, 1)}}       `, 1);
    const f = SafetensorsFile.open(ok);
    expect(f.keys()).toEqual(['a']);
    f.close();
    opening(rawFile(`{${entry('a', 'U8', [1], 0, 1)}}\n`, 1), /the header has "\\n" after its JSON object; only spaces may pad it/);
    opening(rawFile(`{${entry('a', 'U8', [1], 0, 1)}}  \0\0`, 1), /the header has "  \\u0000\\u0000" after its JSON object/);
  });

  it('offsets: past the data, begin after end, a gap, an overlap, bytes left over', () => {
    opening(rawFile(`{${entry('a', 'F32', [2], 0, 8)}}`, 4), /tensor 'a': data_offsets \[0, 8\] run past the data section \(4 bytes\)/);
    opening(rawFile(`{${entry('a', 'U8', [0], 4, 0)}}`, 4), /tensor 'a': data_offsets \[4,0\] are not \[begin, end\] with 0 ≤ begin ≤ end/);
    opening(rawFile(`{${entry('a', 'U8', [2], 0, 2)},${entry('b', 'U8', [2], 3, 5)}}`, 5), /bytes 2–3 of the data section belong to no tensor/);
    opening(rawFile(`{${entry('a', 'U8', [2], 0, 2)},${entry('b', 'U8', [2], 1, 3)}}`, 3), /tensors 'a' and 'b' overlap \(bytes 1–2\)/);
    opening(rawFile(`{${entry('a', 'U8', [2], 0, 2)}}`, 3), /bytes 2–3 of the data section belong to no tensor/);
  });

  it('byte length other than the element count times the dtype size, and sub-byte dtypes that end mid-byte', () => {
    opening(rawFile(`{${entry('a', 'F16', [3], 0, 4)}}`, 4), /tensor 'a': shape \[3\] of F16 needs 6 bytes but data_offsets \[0, 4\] hold 4/);
    opening(rawFile(`{${entry('a', 'F4', [3], 0, 2)}}`, 2), /tensor 'a': 3 elements of F4 \(4 bits each\) do not fill whole bytes/);
  });
});

describe('names and metadata that an object would swallow stay what the file says', () => {
  it("'constructor', '__proto__' and 'toString' are tensor names and metadata keys like any other", () => {
    const p = rawFile(`{"__metadata__":{"__proto__":"x","constructor":"y"},${entry('constructor', 'U8', [1], 0, 1)},${entry('__proto__', 'U8', [1], 1, 2)}}`, Uint8Array.from([7, 9]));
    const f = SafetensorsFile.open(p);
    expect(f.keys().sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyNames(f.metadata).sort()).toEqual(['__proto__', 'constructor']);
    expect([...f.readArray('constructor'), ...f.readArray('__proto__')]).toEqual([7, 9]);
    expectDefect(p, () => f.info('toString'), /no tensor named 'toString'/);
    f.close();
  });
});

describe('loading each dtype the format lists', () => {
  /** One tensor of `dtype` holding `bytes`. */
  const one = (dtype: string, shape: number[], bytes: number[]) => rawFile(`{${entry('t', dtype, shape, 0, bytes.length)}}`, Uint8Array.from(bytes));

  it.each([
    ['I8', [2], [0x80, 0x7f], [-128, 127]],
    ['U8', [2], [0xff, 0x01], [255, 1]],
    ['I16', [2], [0x00, 0x80, 0xff, 0x7f], [-32768, 32767]],
    ['U16', [1], [0xff, 0xff], [65535]],
    ['U32', [1], [0xff, 0xff, 0xff, 0x7f], [2147483647]],
    ['I64', [1], [0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0xff], [-2147483648]],
    ['U64', [1], [5, 0, 0, 0, 0, 0, 0, 0], [5]],
    ['BOOL', [3], [0, 1, 2], [0, 1, 1]],
  ])('%s loads as int32 (or bool) with its values: two’s complement, little-endian', (dtype, shape, bytes, values) => {
    const f = SafetensorsFile.open(one(dtype, shape, bytes));
    expect([...f.readArray('t')]).toEqual(values);
    f.close();
  });

  it.each([
    ['I64', [0, 0, 0, 0x80, 0, 0, 0, 0], '2147483648'],
    ['I64', [0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff], '-2147483649'],
    ['U64', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], '18446744073709551615'],
    ['U32', [0, 0, 0, 0x80], '2147483648'],
  ])('%s value beyond int32 is a SafetensorsError naming the tensor and the value, not a RangeError', (dtype, bytes, value) => {
    const p = one(dtype, [1], bytes);
    const f = SafetensorsFile.open(p);
    expectDefect(p, () => f.readArray('t'), new RegExp(`tensor 't': ${dtype} value ${value} \\(element 0\\) does not fit in int32`));
    f.close();
  });

  it.each([
    ['F8_E4M3', [2], 2],
    ['F8_E5M2', [2], 2],
    ['F8_E8M0', [1], 1],
    ['F8_E4M3FNUZ', [1], 1],
    ['F8_E5M2FNUZ', [1], 1],
    ['F4', [2], 1],
    ['F6_E2M3', [4], 3],
    ['F6_E3M2', [4], 3],
    ['C64', [1], 8],
  ])('%s parses (shape, dtype, raw bytes) but loading it is a SafetensorsError naming the tensor and its dtype', (dtype, shape, size) => {
    const bytes = Array.from({ length: size }, (_, i) => i + 1);
    const p = one(dtype, shape, bytes);
    const f = SafetensorsFile.open(p);
    expect(f.info('t')).toMatchObject({ dtype, shape });
    expect([...f.readBytes('t')]).toEqual(bytes);
    expectDefect(p, () => f.readArray('t'), new RegExp(`tensor 't': dtype ${dtype} cannot be loaded as a tensor here`));
    f.close();
  });
});

describe('the writer refuses inputs that would make a file the format forbids, before writing anything', () => {
  const host = (shape: number[], data: number[] = Array(shape.reduce((a, b) => a * b, 1)).fill(1)) => ({ dtype: 'float32' as const, shape, data: Float32Array.from(data) });

  /** The save fails with a SafetensorsError naming `p` and `defect`, and leaves no file, not even a temporary one. */
  function refuses(save: (p: string) => void, defect: RegExp): void {
    const sub = mkdtempSync(join(dir, 'w-'));
    const p = join(sub, 'out.safetensors');
    expectDefect(p, () => save(p), defect);
    expect(existsSync(p)).toBe(false);
    expect(readdirSync(sub)).toEqual([]);
  }

  it('a tensor named __metadata__', () => refuses((p) => saveSafetensors(p, { __metadata__: host([1]) }), /tensor may not be named '__metadata__'/));
  it('metadata values that are not strings', () => refuses((p) => saveSafetensors(p, { a: host([1]) }, { metadata: { step: 3 as unknown as string } }), /metadata value 'step' is number, not a string/));
  it('a name with a lone surrogate (UTF-8 has no spelling for it)', () => refuses((p) => saveSafetensors(p, { 'a\ud800': host([1]) }), /tensor name 'a\\ud800' holds a lone UTF-16 surrogate/));
  it('a shape that is not non-negative integers', () => refuses((p) => saveSafetensors(p, { a: host([-1], []) }), /tensor 'a': shape \[-1\] is not a list of non-negative integers/));
  it('host data that does not fill its shape', () => refuses((p) => saveSafetensors(p, { a: host([2, 2], [1, 2, 3]) }), /tensor 'a': 3 values do not fill shape \[2, 2\] \(4 elements\)/));
  it('an unknown stored type', () => refuses((p) => saveSafetensors(p, { a: host([1]) }, { floatType: 'F8' as 'F16' }), /floatType 'F8' is not one of F32, F16, BF16/));

  it('names past ASCII: the header is padded to a multiple of 8 bytes (not characters), and reads back', () => {
    const p = join(dir, 'unicode.safetensors');
    // 'é😀' and '日本' take 7 more UTF-8 bytes than UTF-16 units: padding by characters would miss the multiple of 8.
    saveSafetensors(p, { 'é😀': host([1], [2]), __proto__x: host([1], [3]) }, { metadata: { '日本': 'u' } });
    const bytes = readFileSync(p);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
    const f = SafetensorsFile.open(p);
    expect(f.keys().sort()).toEqual(['__proto__x', 'é😀']);
    expect(f.metadata).toEqual({ '日本': 'u' });
    expect([...f.readArray('é😀')]).toEqual([2]);
    f.close();
  });
});
