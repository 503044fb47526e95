import { describe, expect, it } from 'vitest';
import { judgeSafetensors } from '../support/safetensors-spec.js';

/*
 * The fuzz test's oracle checked on its own: the byte strings of the Rust crate's tests (huggingface/safetensors,
 * safetensors/src/tensor.rs, `mod tests`) with the crate's verdicts, and the README's rules one by one.
 */

/** A byte string written as the Rust tests write theirs (latin1, \xNN escapes already decoded by JS). */
const b = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const file = (header: string, data = '') => {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(b(data), 8 + h.length);
  return out;
};
const zeros = (n: number) => '\x00'.repeat(n);
const valid = (f: Uint8Array) => judgeSafetensors(f).valid;

describe('the spec validator on the reference crate’s test vectors', () => {
  const test2x2 = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}';

  it('test_deserialization: a 2×2 I32 tensor of 16 bytes is valid, with its bytes', () => {
    const v = judgeSafetensors(b(`<${zeros(7)}${test2x2}${zeros(16)}`));
    expect(v.valid).toBe(true);
    if (v.valid) {
      expect([...v.tensors.keys()]).toEqual(['test']);
      expect(v.tensors.get('test')).toEqual({ dtype: 'I32', shape: [2n, 2n], bytes: new Uint8Array(16) });
    }
  });

  it('test_empty_shapes_allowed and test_zero_sized_tensor: shape [] holds one element, [2, 0] none', () => {
    expect(valid(b(`8${zeros(7)}{"test":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}${zeros(4)}`))).toBe(true);
    expect(valid(b(`<${zeros(7)}{"test":{"dtype":"I32","shape":[2,0],"data_offsets":[0, 0]}}`))).toBe(true);
  });

  it('test_serialization_fp4: two F4 values in one byte, as the crate serializes them', () => {
    const bytes = [64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 52, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 49, 93, 125, 125, 32, 32, 32, 32, 0];
    expect(valid(Uint8Array.from(bytes))).toBe(true);
    expect(valid(file('{"a":{"dtype":"F4","shape":[1,3],"data_offsets":[0,2]}}', zeros(2)))).toBe(false); // misaligned
    expect(valid(file('{"a":{"dtype":"F4","shape":[1,3],"data_offsets":[0,1]}}', zeros(1)))).toBe(false); // 12 bits are not 1 byte
    expect(valid(file('{"a":{"dtype":"F4","shape":[1,2],"data_offsets":[0,2]}}', zeros(2)))).toBe(false); // 2 bytes for 1
  });

  it('test_metadata_incomplete_buffer: bytes after the data, or 2 bytes missing, are invalid', () => {
    expect(valid(b(`<${zeros(7)}${test2x2}${zeros(16)}extra_bogus_data_for_polyglot_file`))).toBe(false);
    expect(valid(b(`<${zeros(7)}${test2x2}${zeros(14)}`))).toBe(false);
  });

  it('test_header_too_large, test_header_too_small, test_invalid_header_length', () => {
    expect(valid(b(`<${zeros(4)}\xff\xff\xff${test2x2}${zeros(16)}`))).toBe(false);
    expect(valid(b(''))).toBe(false);
    expect(valid(b(`<${zeros(7)}`))).toBe(false);
  });

  it('test_invalid_header_non_utf8 and test_invalid_header_not_json', () => {
    expect(valid(b(`\x01${zeros(7)}\xff`))).toBe(false);
    expect(valid(b(`\x01${zeros(7)}{`))).toBe(false);
  });

  it('test_invalid_info: shape and offsets that disagree', () => {
    expect(valid(b(`<${zeros(7)}{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0, 4]}}`))).toBe(false);
  });

  it('test_json_attack: ten tensors on the same 16 bytes', () => {
    const entries = Array.from({ length: 10 }, (_, i) => `"weight_${i}":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}`);
    expect(valid(file(`{${entries.join(',')}}`, zeros(16)))).toBe(false);
  });
});

describe('the spec validator on the README’s rules', () => {
  const entry = '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';

  it('the header must begin with "{" and may be padded at the end with spaces only', () => {
    expect(valid(file(`{${entry}}    `, zeros(4)))).toBe(true);
    expect(valid(file(` {${entry}}`, zeros(4)))).toBe(false);
    expect(valid(file(`{${entry}}\n`, zeros(4)))).toBe(false);
    expect(valid(file(`\ufeff{${entry}}`, zeros(4)))).toBe(false);
  });

  it('duplicate keys are disallowed, at the top and inside entries and metadata', () => {
    expect(valid(file(`{${entry},${entry}}`, zeros(4)))).toBe(false);
    expect(valid(file('{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', zeros(4)))).toBe(false);
    expect(valid(file(`{"__metadata__":{"k":"v","k":"w"},${entry}}`, zeros(4)))).toBe(false);
  });

  it('__metadata__ is a string-to-string map', () => {
    expect(valid(file(`{"__metadata__":{"k":"v"},${entry}}`, zeros(4)))).toBe(true);
    for (const m of ['[]', '["k","v"]', '{"k":1}', '{"k":null}', 'null', '"s"']) expect(valid(file(`{"__metadata__":${m},${entry}}`, zeros(4))), m).toBe(false);
  });

  it('every listed dtype parses, with its bit size; others do not', () => {
    for (const [dtype, bytes] of [['BOOL', 2], ['U8', 2], ['I8', 2], ['F8_E5M2', 2], ['F8_E4M3', 2], ['F8_E8M0', 2], ['F8_E4M3FNUZ', 2], ['F8_E5M2FNUZ', 2], ['I16', 4], ['U16', 4], ['F16', 4], ['BF16', 4], ['I32', 8], ['U32', 8], ['F32', 8], ['C64', 16], ['F64', 16], ['I64', 16], ['U64', 16], ['F4', 1], ['F6_E2M3', 0], ['F6_E3M2', 0]] as const) {
      const shape = dtype.startsWith('F6_') ? [0] : [2];
      expect(valid(file(`{"t":{"dtype":"${dtype}","shape":[${shape}],"data_offsets":[0,${bytes}]}}`, zeros(bytes))), dtype).toBe(true);
    }
    expect(valid(file('{"t":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}}', zeros(3)))).toBe(true); // 24 bits
    for (const dtype of ['f32', 'F7', 'Q4_0', '']) expect(valid(file(`{"t":{"dtype":"${dtype}","shape":[1],"data_offsets":[0,4]}}`, zeros(4))), dtype).toBe(false);
  });

  it('element counts that overflow 64 bits are invalid, as the crate checks them (running product, then bits)', () => {
    const big = '4294967296'; // 2^32
    expect(valid(file(`{"t":{"dtype":"U8","shape":[${big},${big}],"data_offsets":[0,0]}}`))).toBe(false);
    expect(valid(file(`{"t":{"dtype":"U8","shape":[${big},${big},0],"data_offsets":[0,0]}}`))).toBe(false); // 2^64 before the 0
    expect(valid(file(`{"t":{"dtype":"U8","shape":[0,${big},${big}],"data_offsets":[0,0]}}`))).toBe(true); // empty throughout
    expect(valid(file('{"t":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}'))).toBe(false); // 2^61 × 64 bits
    expect(valid(file('{"t":{"dtype":"U8","shape":[0,18446744073709551616],"data_offsets":[0,0]}}'))).toBe(false); // not a usize
  });

  it('integers are plain digits; lone surrogate escapes and raw control characters are not strings', () => {
    for (const n of ['4.0', '4e0', '-0', '04', '+4']) expect(valid(file(`{"t":{"dtype":"U8","shape":[4],"data_offsets":[0,${n}]}}`, zeros(4))), n).toBe(false);
    expect(valid(file('{"\\ud83d\\ude00":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}', zeros(1)))).toBe(true);
    expect(valid(file('{"\\ud800":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}', zeros(1)))).toBe(false);
    expect(valid(file('{"a\tb":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}', zeros(1)))).toBe(false);
  });

  it('offsets tile the byte buffer: in any order in the header, no gap, no overlap, nothing left over', () => {
    const t = (name: string, b0: number, b1: number) => `"${name}":{"dtype":"U8","shape":[${b1 - b0}],"data_offsets":[${b0},${b1}]}`;
    expect(valid(file(`{${t('x', 2, 5)},${t('y', 0, 2)}}`, zeros(5)))).toBe(true);
    expect(valid(file(`{${t('x', 3, 5)},${t('y', 0, 2)}}`, zeros(5)))).toBe(false);
    expect(valid(file(`{${t('x', 1, 5)},${t('y', 0, 2)}}`, zeros(5)))).toBe(false);
  });
});
