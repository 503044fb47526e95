/**
 * An independent validator of the safetensors format, written from its published specification and nothing of
 * ours: huggingface/safetensors README.md ("Format"), the validation in the Rust crate's safetensors/src/tensor.rs
 * (header size limit, dtype bit sizes, overflow and sub-byte rules, offsets tiling the byte buffer), RFC 8259 (JSON)
 * and the Unicode Standard's Table 3-7 (well-formed UTF-8). It works on bytes and code points, decoding UTF-8 and
 * JSON itself, so it shares no code and no decoder with the reader it checks (packages/safetensors/src).
 *
 * Where the README and the Rust crate differ, the README wins: the header MUST begin with `{` and MAY be padded
 * at the end with spaces (0x20) — the crate also lets other JSON whitespace through on either side.
 * Two rules are decisions the README leaves open, taken the strict way: a tensor entry has exactly the fields
 * `dtype`, `shape` and `data_offsets` (an unknown field would be silently ignored otherwise), and integers are
 * written as plain digits (`4`, not `4.0`, `4e0` or `-0`), as the crate's `usize` fields demand.
 */

/** Every dtype the format lists (tensor.rs `enum Dtype`), with its size in bits. */
export const SPEC_DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
};

/** tensor.rs MAX_HEADER_SIZE. */
export const SPEC_MAX_HEADER = 100_000_000n;
const U64_MAX = (1n << 64n) - 1n;

export interface SpecTensor {
  dtype: string;
  shape: bigint[];
  /** The tensor's bytes in the byte buffer. */
  bytes: Uint8Array;
}

export type SpecVerdict =
  | { valid: true; tensors: Map<string, SpecTensor>; metadata: Map<string, string> }
  | { valid: false; reason: string };

class Invalid extends Error {}
const fail = (reason: string): never => {
  throw new Invalid(reason);
};

/** Decides whether `file` is a valid safetensors file, and for a valid one what it holds. */
export function judgeSafetensors(file: Uint8Array): SpecVerdict {
  try {
    return judge(file);
  } catch (e) {
    if (e instanceof Invalid) return { valid: false, reason: e.message };
    throw e;
  }
}

function judge(file: Uint8Array): SpecVerdict {
  if (file.length < 8) fail('shorter than the 8-byte header size');
  let n = 0n;
  for (let i = 7; i >= 0; i--) n = (n << 8n) | BigInt(file[i]);
  if (n > SPEC_MAX_HEADER) fail('header size above 100,000,000');
  if (8n + n > BigInt(file.length)) fail('header runs past the end of the file');
  const headerEnd = 8 + Number(n);
  const cps = utf8CodePoints(file.subarray(8, headerEnd));
  if (cps[0] !== 0x7b) fail("header does not begin with '{'");
  const parser = new JsonRecognizer(cps);
  const top = parser.value();
  for (let i = parser.at; i < cps.length; i++) if (cps[i] !== 0x20) fail('header has something other than spaces after the JSON object');
  if (top.kind !== 'object') fail('header is not an object');
  const root = top as JObject;
  noDuplicateKeys(root);

  const metadata = new Map<string, string>();
  const infos: { name: string; dtype: string; shape: bigint[]; begin: bigint; end: bigint }[] = [];
  for (const [key, value] of root.members) {
    if (key === '__metadata__') {
      if (value.kind !== 'object') fail('__metadata__ is not an object');
      for (const [k, v] of (value as JObject).members) {
        if (v.kind !== 'string') fail('a __metadata__ value is not a string');
        metadata.set(k, (v as JString).value);
      }
      continue;
    }
    if (value.kind !== 'object') fail('a tensor entry is not an object');
    const fields = new Map((value as JObject).members);
    for (const f of fields.keys()) if (f !== 'dtype' && f !== 'shape' && f !== 'data_offsets') fail('a tensor entry has an unknown field');
    const dtype = fields.get('dtype');
    const shape = fields.get('shape');
    const offsets = fields.get('data_offsets');
    if (!dtype || !shape || !offsets) fail('a tensor entry lacks a field');
    if (dtype!.kind !== 'string' || !Object.hasOwn(SPEC_DTYPE_BITS, (dtype as JString).value)) fail('unknown dtype');
    const dims = naturals(shape!, 'shape');
    const off = naturals(offsets!, 'data_offsets');
    if (off.length !== 2) fail('data_offsets is not a pair');
    infos.push({ name: key, dtype: (dtype as JString).value, shape: dims, begin: off[0], end: off[1] });
  }

  // tensor.rs Metadata::validate, over the entries ordered by their offsets.
  const ordered = [...infos].sort((a, b) => (a.begin !== b.begin ? (a.begin < b.begin ? -1 : 1) : a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
  let start = 0n;
  for (const t of ordered) {
    if (t.begin !== start || t.end < t.begin) fail('offsets do not tile the byte buffer');
    start = t.end;
    let elements = 1n;
    for (const d of t.shape) {
      elements *= d;
      if (elements > U64_MAX) fail('element count overflows');
    }
    const bits = elements * BigInt(SPEC_DTYPE_BITS[t.dtype]);
    if (bits > U64_MAX) fail('bit count overflows');
    if (bits % 8n !== 0n) fail('sub-byte tensor does not end on a byte');
    if (t.end - t.begin !== bits / 8n) fail('byte length is not the shape times the dtype size');
  }
  if (BigInt(headerEnd) + start !== BigInt(file.length)) fail('the byte buffer is not exactly covered');

  const tensors = new Map<string, SpecTensor>();
  for (const t of infos) {
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, bytes: file.slice(headerEnd + Number(t.begin), headerEnd + Number(t.end)) });
  }
  return { valid: true, tensors, metadata };
}

/** A JSON array of integers written as plain digits (no sign, fraction or exponent) that fit tensor.rs's `usize`. */
function naturals(v: JValue, what: string): bigint[] {
  if (v.kind !== 'array') fail(`${what} is not an array`);
  return (v as JArray).items.map((x) => {
    if (x.kind !== 'number' || !/^(0|[1-9][0-9]*)$/.test((x as JNumber).text)) fail(`${what} holds something other than a non-negative integer`);
    const n = BigInt((x as JNumber).text);
    if (n > U64_MAX) fail(`${what} holds an integer beyond a 64-bit usize`);
    return n;
  });
}

function noDuplicateKeys(v: JValue): void {
  if (v.kind === 'object') {
    const seen = new Set<string>();
    for (const [k, x] of (v as JObject).members) {
      if (seen.has(k)) fail('duplicate key');
      seen.add(k);
      noDuplicateKeys(x);
    }
  } else if (v.kind === 'array') for (const x of (v as JArray).items) noDuplicateKeys(x);
}

/** Unicode 15, §3.9 Table 3-7: the well-formed UTF-8 byte sequences, decoded to code points. */
function utf8CodePoints(b: Uint8Array): number[] {
  const out: number[] = [];
  let i = 0;
  const cont = (j: number, lo = 0x80, hi = 0xbf): number => {
    if (j >= b.length || b[j] < lo || b[j] > hi) fail('header is not well-formed UTF-8');
    return b[j] & 0x3f;
  };
  while (i < b.length) {
    const x = b[i];
    if (x <= 0x7f) {
      out.push(x);
      i += 1;
    } else if (x >= 0xc2 && x <= 0xdf) {
      out.push(((x & 0x1f) << 6) | cont(i + 1));
      i += 2;
    } else if (x >= 0xe0 && x <= 0xef) {
      const [lo, hi] = x === 0xe0 ? [0xa0, 0xbf] : x === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
      out.push(((x & 0x0f) << 12) | (cont(i + 1, lo, hi) << 6) | cont(i + 2));
      i += 3;
    } else if (x >= 0xf0 && x <= 0xf4) {
      const [lo, hi] = x === 0xf0 ? [0x90, 0xbf] : x === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
      out.push(((x & 0x07) << 18) | (cont(i + 1, lo, hi) << 12) | (cont(i + 2) << 6) | cont(i + 3));
      i += 4;
    } else fail('header is not well-formed UTF-8');
  }
  return out;
}

type JValue = JObject | JArray | JString | JNumber | { kind: 'literal' };
interface JObject { kind: 'object'; members: [string, JValue][] }
interface JArray { kind: 'array'; items: JValue[] }
interface JString { kind: 'string'; value: string }
interface JNumber { kind: 'number'; text: string }

/**
 * RFC 8259 over code points; objects keep every member, duplicates included, and numbers keep their text. `value()`
 * skips the whitespace before a value, not after it, so the caller sees what follows the top-level object.
 */
class JsonRecognizer {
  at = 0;
  constructor(private readonly cp: number[]) {}

  value(): JValue {
    this.ws();
    const c = this.cp[this.at];
    let v: JValue;
    if (c === 0x7b) v = this.object();
    else if (c === 0x5b) v = this.array();
    else if (c === 0x22) v = { kind: 'string', value: this.string() };
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) v = this.number();
    else {
      for (const word of ['true', 'false', 'null']) if (this.take(word)) return { kind: 'literal' };
      return fail('header is not valid JSON');
    }
    return v;
  }

  private ws(): void {
    while ([0x20, 0x09, 0x0a, 0x0d].includes(this.cp[this.at])) this.at++;
  }

  private expect(c: number): void {
    if (this.cp[this.at] !== c) fail('header is not valid JSON');
    this.at++;
  }

  private take(word: string): boolean {
    for (let k = 0; k < word.length; k++) if (this.cp[this.at + k] !== word.charCodeAt(k)) return false;
    this.at += word.length;
    return true;
  }

  private object(): JObject {
    this.expect(0x7b);
    this.ws();
    const members: [string, JValue][] = [];
    if (this.cp[this.at] === 0x7d) {
      this.at++;
      return { kind: 'object', members };
    }
    for (;;) {
      this.ws();
      if (this.cp[this.at] !== 0x22) fail('header is not valid JSON');
      const key = this.string();
      this.ws();
      this.expect(0x3a);
      members.push([key, this.value()]);
      this.ws();
      if (this.cp[this.at] === 0x2c) this.at++;
      else break;
    }
    this.expect(0x7d);
    return { kind: 'object', members };
  }

  private array(): JArray {
    this.expect(0x5b);
    this.ws();
    const items: JValue[] = [];
    if (this.cp[this.at] === 0x5d) {
      this.at++;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(this.value());
      this.ws();
      if (this.cp[this.at] === 0x2c) this.at++;
      else break;
    }
    this.expect(0x5d);
    return { kind: 'array', items };
  }

  /** A string's code points; a \u escape of a surrogate must be a high one followed by an escaped low one. */
  private string(): string {
    this.expect(0x22);
    const out: number[] = [];
    for (;;) {
      const c = this.cp[this.at++];
      if (c === undefined || c < 0x20) fail('header is not valid JSON');
      if (c === 0x22) break;
      if (c !== 0x5c) {
        out.push(c);
        continue;
      }
      const e = this.cp[this.at++];
      const simple: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 };
      if (e !== undefined && e in simple) out.push(simple[e]);
      else if (e === 0x75) {
        const u = this.hex4();
        if (u >= 0xdc00 && u <= 0xdfff) fail('lone low surrogate escape');
        if (u >= 0xd800 && u <= 0xdbff) {
          if (!this.take('\\u')) fail('lone high surrogate escape');
          const low = this.hex4();
          if (low < 0xdc00 || low > 0xdfff) fail('lone high surrogate escape');
          out.push(0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00));
        } else out.push(u);
      } else fail('header is not valid JSON');
    }
    return String.fromCodePoint(...out);
  }

  private hex4(): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = this.cp[this.at++];
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
      if (d < 0) fail('header is not valid JSON');
      v = v * 16 + d;
    }
    return v;
  }

  /** number = [ minus ] int [ frac ] [ exp ] */
  private number(): JNumber {
    const start = this.at;
    const digit = () => this.cp[this.at] >= 0x30 && this.cp[this.at] <= 0x39;
    if (this.cp[this.at] === 0x2d) this.at++;
    if (this.cp[this.at] === 0x30) this.at++;
    else if (digit()) while (digit()) this.at++;
    else fail('header is not valid JSON');
    if (this.cp[this.at] === 0x2e) {
      this.at++;
      if (!digit()) fail('header is not valid JSON');
      while (digit()) this.at++;
    }
    if (this.cp[this.at] === 0x65 || this.cp[this.at] === 0x45) {
      this.at++;
      if (this.cp[this.at] === 0x2b || this.cp[this.at] === 0x2d) this.at++;
      if (!digit()) fail('header is not valid JSON');
      while (digit()) this.at++;
    }
    return { kind: 'number', text: String.fromCodePoint(...this.cp.slice(start, this.at)) };
  }
}
