import { fc } from '@fast-check/vitest';

/**
 * Safetensors files for fuzzing: valid files built here from a description (names, dtypes, shapes, metadata, the
 * order of the data, padding, JSON spelling), then mutated — in the header's JSON text (duplicate keys, wrong
 * offsets, overflowing shapes, unknown dtypes, non-object metadata, bad escapes, syntax), in its bytes (bad UTF-8,
 * a wrong or huge header length) or anywhere (bit flips, truncation, inserted bytes). Nothing here knows what is
 * valid: the spec validator (tests/support/safetensors-spec.ts) decides that for each file.
 */

/** A JSON text tree whose leaves are written as they are, so a mutation can put any text anywhere. */
export type JsonText = { text: string } | { members: [key: string, value: JsonText][] } | { items: JsonText[] };
type JObject = { members: [string, JsonText][] };

interface FileModel {
  header: JObject;
  /** Written before and after the header object. */
  lead: string;
  pad: string;
  /** Whitespace after ':' and ',' inside the header. */
  gap: string;
  data: Uint8Array;
  /** Header text written instead of `header` (a header that is not an object). */
  replace?: string;
}

const DTYPE_BITS: Record<string, number> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
};
const DTYPES = Object.keys(DTYPE_BITS);
const COMMON = ['F32', 'F16', 'BF16', 'F64', 'I32', 'I64', 'BOOL', 'U8', 'I8', 'I16', 'U16', 'U32', 'U64'];

const NAMES = ['a', 'b.weight', 'h.0.attn.c_attn.bias', '', 'constructor', '__proto__', 'toString', 'é', '日本', '😀', 'a/b', 'tab\there', 'quote"', 'back\\slash', '__metadata', 'x'.repeat(40)];
const META = [['format', 'pt'], ['__proto__', 'x'], ['constructor', 'y'], ['é', '😀'], ['', ''], ['json', '{"a": 1}'], ['hasOwnProperty', '1']];

/** What a valid file holds, before any mutation. */
export interface BaseSpec {
  tensors: { name: number; dtype: string; shape: number[]; smallInts: boolean }[];
  metadata: number[] | null;
  /** Seeds the data bytes, the header's member order, the data order and the field order. */
  seed: number;
  pad: number;
  escape: 'none' | 'unicode' | 'slash';
  gap: '' | ' ' | '\n  ';
}

export const baseSpec: fc.Arbitrary<BaseSpec> = fc.record({
  tensors: fc.uniqueArray(
    fc.record({
      name: fc.nat(NAMES.length - 1),
      dtype: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...COMMON) }, { weight: 1, arbitrary: fc.constantFrom(...DTYPES) }),
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
      smallInts: fc.boolean(),
    }),
    { maxLength: 5, selector: (t) => t.name },
  ),
  metadata: fc.option(fc.uniqueArray(fc.nat(META.length - 1), { maxLength: 3 })),
  seed: fc.nat(),
  pad: fc.nat(9),
  escape: fc.constantFrom('none', 'unicode', 'slash'),
  gap: fc.constantFrom('', ' ', '\n  '),
});

/** mulberry32: a small deterministic generator for the data bytes and the orders. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function shuffled<T>(xs: T[], next: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A JSON string literal for `s`, in one of the spellings JSON allows. */
export function literal(s: string, escape: BaseSpec['escape'] = 'none'): string {
  const plain = JSON.stringify(s);
  if (escape === 'slash') return plain.replaceAll('/', '\\/');
  if (escape === 'unicode') return plain.replace(/[^\x20-\x7e]/gu, (c) => [...c].map((u) => u.split('').map((x) => `\\u${x.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')).join(''));
  return plain;
}

const num = (n: number | bigint | string): JsonText => ({ text: String(n) });

/** Sub-byte dtypes need a whole number of bytes: a shape whose bits do not end on a byte gets a trailing 4. */
function byteShape(dtype: string, shape: number[]): number[] {
  const numel = shape.reduce((a, b) => a * b, 1);
  return (numel * DTYPE_BITS[dtype]) % 8 === 0 ? shape : [...shape, 4];
}

function tensorBytes(dtype: string, shape: number[], smallInts: boolean, next: () => number): Uint8Array {
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array((numel * DTYPE_BITS[dtype]) / 8);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(next() * 256);
  const view = new DataView(out.buffer);
  // Integers wider than int32 usually hold small values (index tensors); `smallInts` false keeps the random bytes.
  if (smallInts && (dtype === 'I64' || dtype === 'U64')) for (let i = 0; i < numel; i++) view.setBigInt64(8 * i, BigInt(Math.floor(next() * 2 ** 31) - (dtype === 'I64' ? 2 ** 30 : 0)), true);
  if (smallInts && dtype === 'U32') for (let i = 0; i < numel; i++) view.setUint32(4 * i, Math.floor(next() * 2 ** 31), true);
  return out;
}

function buildModel(spec: BaseSpec): FileModel {
  const next = rng(spec.seed);
  const tensors = spec.tensors.map((t) => {
    const shape = byteShape(t.dtype, t.shape);
    return { name: NAMES[t.name], dtype: t.dtype, shape, bytes: tensorBytes(t.dtype, shape, t.smallInts, next) };
  });
  // The data in an order of its own, unrelated to the header's member order.
  const offsets = new Map<string, [number, number]>();
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const t of shuffled(tensors, next)) {
    offsets.set(t.name, [at, at + t.bytes.length]);
    chunks.push(t.bytes);
    at += t.bytes.length;
  }
  const data = new Uint8Array(at);
  let o = 0;
  for (const c of chunks) {
    data.set(c, o);
    o += c.length;
  }
  const members: [string, JsonText][] = tensors.map((t) => {
    const [begin, end] = offsets.get(t.name)!;
    const fields: [string, JsonText][] = [
      ['"dtype"', { text: literal(t.dtype) }],
      ['"shape"', { items: t.shape.map(num) }],
      ['"data_offsets"', { items: [num(begin), num(end)] }],
    ];
    return [literal(t.name, spec.escape), { members: shuffled(fields, next) }];
  });
  if (spec.metadata) {
    const meta: [string, JsonText][] = spec.metadata.map((i) => [literal(META[i][0], spec.escape), { text: literal(META[i][1], spec.escape) }]);
    members.splice(Math.floor(next() * (members.length + 1)), 0, ['"__metadata__"', { members: meta }]);
  }
  return { header: { members: shuffled(members, next) }, lead: '', pad: ' '.repeat(spec.pad), gap: spec.gap, data };
}

function write(j: JsonText, gap: string): string {
  if ('text' in j) return j.text;
  if ('items' in j) return `[${j.items.map((x) => write(x, gap)).join(`,${gap}`)}]`;
  // A member with an empty key is written bare: an empty one makes a trailing comma.
  return `{${j.members.map(([k, v]) => (k === '' ? write(v, gap) : `${k}:${gap}${write(v, gap)}`)).join(`,${gap}`)}}`;
}

function encode(m: FileModel, headerLength?: (n: number) => bigint): Uint8Array {
  const h = new TextEncoder().encode(m.lead + (m.replace ?? write(m.header, m.gap)) + m.pad);
  const out = new Uint8Array(8 + h.length + m.data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ? headerLength(h.length) : BigInt(h.length), true);
  out.set(h, 8);
  out.set(m.data, 8 + h.length);
  return out;
}

/** One mutation: its kind and three numbers that pick where and what. */
export interface Mutation {
  kind: MutationKind;
  x: number;
  y: number;
  z: number;
}

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length];
const isObject = (j: JsonText | undefined): j is JObject => j !== undefined && 'members' in j;

function entries(m: FileModel): JObject[] {
  return m.header.members.filter(([k, v]) => k !== '"__metadata__"' && isObject(v)).map(([, v]) => v as JObject);
}

function field(e: JObject, name: string): JsonText | undefined {
  return e.members.find(([k]) => k === `"${name}"`)?.[1];
}

function setField(e: JObject, name: string, value: JsonText): void {
  const i = e.members.findIndex(([k]) => k === `"${name}"`);
  if (i >= 0) e.members[i] = [`"${name}"`, value];
  else e.members.push([`"${name}"`, value]);
}

/** An integer leaf of some shape or data_offsets, for the edits that respell or change a number. */
function numberLeaf(m: FileModel, i: number): { text: string } | undefined {
  const leaves: { text: string }[] = [];
  for (const e of entries(m)) for (const f of ['shape', 'data_offsets']) {
    const v = field(e, f);
    if (v && 'items' in v) for (const x of v.items) if ('text' in x && /^\d+$/.test(x.text)) leaves.push(x);
  }
  return leaves.length ? pick(leaves, i) : undefined;
}

/** A string literal in the header (a key or a string value), for the edits to escapes and raw characters. */
function stringSlots(m: FileModel): { get: () => string; set: (s: string) => void }[] {
  const slots: { get: () => string; set: (s: string) => void }[] = [];
  const visit = (j: JsonText) => {
    if ('members' in j) {
      j.members.forEach((member) => {
        slots.push({ get: () => member[0], set: (s) => (member[0] = s) });
        visit(member[1]);
      });
    } else if ('items' in j) j.items.forEach(visit);
    else if (j.text.startsWith('"')) slots.push({ get: () => j.text, set: (s) => ((j as { text: string }).text = s) });
  };
  visit(m.header);
  return slots;
}

const BIG = ['4294967296', '9007199254740991', '9007199254740992', '9223372036854775808', '18446744073709551615', '18446744073709551616', '340282366920938463463374607431768211456'];
const NOT_NATURAL = ['-1', '1.0', '1e0', '1E+0', '-0', '0.5', '"1"', 'null', 'true', '[1]', '{}'];
const BAD_DTYPES = ['"f32"', '"F7"', '""', '"FLOAT32"', '"F32 "', '"Float16"', '32', 'null', '["F32"]', '{"F32":1}', '"F8"', '"Q4_0"', '"C128"', '"U128"'];
const NOT_OBJECTS = ['[]', '["a","b"]', '1', 'null', '"s"', 'true', '{"k":1}', '{"k":null}', '{"k":{"x":"y"}}', '{"k":["v"]}', '{"k":true}'];
const BAD_STRINGS = ['"\\ud800"', '"\\udc00"', '"a\\ud800b"', '"\\ud800\\u0041"', '"\\ud83d\\ude00"', '"\\x41"', '"\\u12"', '"\\u00e9"', '"\\/"', '"\t"', '"\u0001"', '"\\u0000"', "'a'", '"a'];
const PAD_TAILS = [' ', '        ', '\t', '\n', '\r\n', '\0', 'x', '}', ' \n'];
const LEADS = [' ', '\n', '\t', '\ufeff', '\0'];
const TOP = ['[]', '"x"', '1', 'null', '[{}]', '{}', '{"a":1}', '{} {}', '{"__metadata__":{}}'];

export const MUTATION_KINDS = [
  'duplicate-tensor', 'duplicate-field', 'duplicate-metadata', 'metadata-kind', 'dtype', 'dtype-same-size', 'shape',
  'shape-overflow', 'number-spelling', 'offsets', 'gap-or-overlap', 'extra-field', 'missing-field', 'entry-kind',
  'top-kind', 'string', 'syntax', 'padding', 'lead', 'empty-tensor', 'header-length', 'bad-utf8', 'bit-flips',
  'set-bytes', 'truncate', 'insert-bytes', 'data-length',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export const mutation: fc.Arbitrary<Mutation> = fc.record({ kind: fc.constantFrom(...MUTATION_KINDS), x: fc.nat(), y: fc.nat(), z: fc.nat() });

/** Edits to the header's JSON text; each returns nothing (the model is changed in place). */
const TEXT_EDITS: Partial<Record<MutationKind, (m: FileModel, x: number, y: number, z: number) => void>> = {
  'duplicate-tensor': (m, x, y) => {
    const tensors = m.header.members.filter(([k]) => k !== '"__metadata__"');
    if (!tensors.length) return;
    const [key] = pick(tensors, x);
    const [, value] = pick(tensors, y);
    m.header.members.splice(y % (m.header.members.length + 1), 0, [key, structuredClone(value)]);
  },
  'duplicate-field': (m, x, y) => {
    const e = entries(m);
    if (!e.length) return;
    const entry = pick(e, x);
    // An earlier edit may have left an empty object where an entry was (a renamed __metadata__, say).
    if (!entry.members.length) return;
    const [k, v] = pick(entry.members, y);
    entry.members.push([k, y % 2 ? structuredClone(v) : pick(entry.members, y + 1)[1]]);
  },
  'duplicate-metadata': (m, x, y) => {
    const meta = m.header.members.find(([k]) => k === '"__metadata__"');
    if (meta && isObject(meta[1]) && meta[1].members.length && x % 2) meta[1].members.push([pick(meta[1].members, y)[0], { text: '"again"' }]);
    else m.header.members.splice(y % (m.header.members.length + 1), 0, ['"__metadata__"', { members: [['"format"', { text: '"pt"' }]] }]);
  },
  'metadata-kind': (m, x) => {
    const meta = m.header.members.find(([k]) => k === '"__metadata__"');
    if (meta) meta[1] = { text: pick(NOT_OBJECTS, x) };
    else m.header.members.unshift(['"__metadata__"', { text: pick(NOT_OBJECTS, x) }]);
  },
  dtype: (m, x, y) => {
    const e = entries(m);
    if (e.length) setField(pick(e, x), 'dtype', { text: y % 3 ? pick(BAD_DTYPES, y) : literal(pick(DTYPES, y)) });
  },
  'dtype-same-size': (m, x, y) => {
    const e = entries(m);
    if (!e.length) return;
    const entry = pick(e, x);
    const d = field(entry, 'dtype');
    const bits = d && 'text' in d && /^"[A-Z0-9_]+"$/.test(d.text) ? DTYPE_BITS[d.text.slice(1, -1)] : undefined;
    if (bits !== undefined) setField(entry, 'dtype', { text: literal(pick(DTYPES.filter((t) => DTYPE_BITS[t] === bits), y)) });
  },
  shape: (m, x, y, z) => {
    const e = entries(m);
    if (!e.length) return;
    const entry = pick(e, x);
    const s = field(entry, 'shape');
    if (!s || !('items' in s)) return;
    const edit = y % 7;
    if (edit === 0) s.items.push(num(1));
    else if (edit === 1) s.items.unshift(num(1));
    else if (edit === 2) s.items.push(num(z % 3));
    else if (edit === 3) s.items.pop();
    else if (edit === 4 && s.items.length) s.items[z % s.items.length] = { text: pick(NOT_NATURAL, z) };
    else if (edit === 5) setField(entry, 'shape', { text: pick(['4', '"4"', '{}', 'null', '[[1]]', '[1,]'], z) });
    else if (s.items.length) {
      const i = z % s.items.length;
      const old = s.items[i];
      if ('text' in old && /^\d+$/.test(old.text)) s.items[i] = num(BigInt(old.text) + BigInt((z % 5) - 2));
    }
  },
  'shape-overflow': (m, x, y, z) => {
    const e = entries(m);
    if (!e.length) return;
    const s = field(pick(e, x), 'shape');
    if (!s || !('items' in s)) return;
    const big = () => ({ text: pick(BIG, z++) });
    const edit = y % 4;
    if (edit === 0) s.items.push(big(), big());
    else if (edit === 1) s.items.splice(0, s.items.length, big(), big(), big());
    else if (edit === 2) s.items.push(big(), num(0)); // huge, then empty: the running product may overflow first
    else s.items.unshift(num(0), big()); // empty first: no overflow, only a huge dimension
  },
  'number-spelling': (m, x, y) => {
    const leaf = numberLeaf(m, x);
    if (leaf) leaf.text = pick([`${leaf.text}.0`, `${leaf.text}e0`, `0${leaf.text}`, `-${leaf.text}`, `+${leaf.text}`, ` ${leaf.text} `, `0x${leaf.text}`, `${leaf.text}E0`], y);
  },
  offsets: (m, x, y, z) => {
    const e = entries(m);
    if (!e.length) return;
    const entry = pick(e, x);
    const o = field(entry, 'data_offsets');
    if (!o || !('items' in o) || o.items.length !== 2 || !o.items.every((v) => 'text' in v && /^\d+$/.test(v.text))) return;
    const [b, en] = o.items.map((v) => BigInt((v as { text: string }).text));
    const k = BigInt((z % 9) - 4);
    const edits: JsonText[] = [
      { items: [num(b + k), num(en)] },
      { items: [num(b), num(en + k)] },
      { items: [num(b + k), num(en + k)] },
      { items: [num(en), num(b)] },
      { items: [num(b)] },
      { items: [num(b), num(en), num(en)] },
      { items: [num(b), { text: pick(NOT_NATURAL, z) }] },
      { items: [num(b), { text: pick(BIG, z) }] },
      { text: pick(['0', 'null', '"0,4"', '{}'], z) },
    ];
    setField(entry, 'data_offsets', pick(edits, y));
  },
  'gap-or-overlap': (m, x, y, z) => {
    // Every tensor from the one picked on moves by k bytes (and the data grows or shrinks with it): a gap or an overlap.
    const e = entries(m);
    if (!e.length) return;
    const first = (field(pick(e, x), 'data_offsets') as { items?: { text?: string }[] } | undefined)?.items?.[0]?.text ?? '0';
    if (!/^\d+$/.test(first)) return;
    const from = BigInt(first);
    const k = (y % 2 ? 1 : -1) * (1 + (z % 8));
    for (const entry of e) {
      const o = field(entry, 'data_offsets');
      if (!o || !('items' in o)) continue;
      for (const v of o.items) if ('text' in v && /^\d+$/.test(v.text) && BigInt(v.text) >= from) v.text = String(BigInt(v.text) + BigInt(k));
    }
    const at = Math.min(Number(from), m.data.length);
    const data = k > 0 ? new Uint8Array([...m.data.subarray(0, at), ...new Uint8Array(k).fill(0xab), ...m.data.subarray(at)]) : m.data.subarray(0, Math.max(0, m.data.length + k));
    m.data = data;
  },
  'extra-field': (m, x, y) => {
    const e = entries(m);
    if (e.length) pick(e, x).members.push([pick(['"extra"', '"dtype "', '"Shape"', '"offsets"', '"__metadata__"'], y), { text: pick(['1', '"x"', 'null', '[]'], y >> 3) }]);
  },
  'missing-field': (m, x, y) => {
    const e = entries(m);
    if (e.length) {
      const entry = pick(e, x);
      entry.members.splice(y % Math.max(1, entry.members.length), 1);
    }
  },
  'entry-kind': (m, x, y) => {
    const tensors = m.header.members.filter(([k]) => k !== '"__metadata__"');
    if (tensors.length) pick(tensors, x)[1] = { text: pick(['[]', '1', '"F32"', 'null', '{}', 'true', '[0, 4]'], y) };
  },
  'top-kind': (m, x) => {
    m.replace = pick(TOP, x);
    m.pad = '';
    m.gap = '';
    m.data = new Uint8Array(0);
  },
  string: (m, x, y) => {
    const slots = stringSlots(m);
    if (slots.length) pick(slots, x).set(pick(BAD_STRINGS, y));
  },
  syntax: (m, x, y) => {
    const e = entries(m);
    const edit = x % 8;
    if (edit === 0) m.pad = `,${m.pad}`; // after the closing brace
    else if (edit === 1 && e.length) pick(e, y).members.push(['', { text: '' }]); // a trailing comma (empty member)
    else if (edit === 2) m.header.members.push(['/*c*/"k"', { text: '"v"' }]);
    else if (edit === 3) m.header.members.push(["'k'", { text: '{}' }]);
    else if (edit === 4) m.header.members.push(['k', { text: '{}' }]);
    else if (edit === 5 && e.length) setField(pick(e, y), 'shape', { text: pick(['NaN', 'Infinity', '[1 2]', '[1,,2]', '[', '[1]]'], y >> 2) });
    else if (edit === 6) m.pad = pick(['}', ']', '{', '"'], y) + m.pad;
    else m.header.members.push(['"k"', { text: '' }]); // a member without a value
  },
  padding: (m, x, y) => {
    m.pad += pick(PAD_TAILS, x) + ' '.repeat(y % 4);
  },
  lead: (m, x) => {
    m.lead = pick(LEADS, x);
  },
  'empty-tensor': (m, x, y) => {
    // A tensor with a 0 in its shape holds no bytes; its offsets are any [k, k] on a boundary between tensors.
    const bounds = new Set<string>(['0', String(m.data.length)]);
    for (const e of entries(m)) {
      const o = field(e, 'data_offsets');
      if (o && 'items' in o) for (const v of o.items) if ('text' in v) bounds.add(v.text);
    }
    const k = y % 5 === 4 ? String(1 + (y % m.data.length || 0)) : pick([...bounds], y); // sometimes inside a tensor
    const shape = pick([[0], [2, 0], [0, 3, 1], [1]], x);
    m.header.members.splice(x % (m.header.members.length + 1), 0, [
      literal(`empty${x % 3}`),
      { members: [['"dtype"', { text: literal(pick(COMMON, y)) }], ['"shape"', { items: shape.map(num) }], ['"data_offsets"', { items: [num(k), num(k)] }]] },
    ]);
  },
};

/** Edits to the encoded bytes: the header length, the header's UTF-8, or anywhere in the file. */
function byteEdit(bytes: Uint8Array, model: FileModel, mu: Mutation): Uint8Array {
  const { kind, x, y, z } = mu;
  if (bytes.length < 8) return bytes; // cut before the header length: nothing left to edit
  // The header length as written (an earlier edit may have made it anything), kept within the file.
  const n = Math.min(Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)), bytes.length - 8);
  switch (kind) {
    case 'bad-utf8': {
      // Inside a string of the header, so the file stays JSON-shaped and the UTF-8 is what is wrong.
      const quotes: number[] = [];
      for (let i = 8; i < 8 + n; i++) if (bytes[i] === 0x22) quotes.push(i);
      if (!quotes.length) return bytes;
      const at = pick(quotes, x) + 1;
      const bad = pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf5, 0x80, 0x80, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0xaf], [0xc3, 0xa9]], y);
      const replace = z % 2; // overwrite bytes (length kept) or insert (length field fixed)
      if (replace) {
        const out = bytes.slice();
        out.set(bad.slice(0, Math.max(0, 8 + n - at)), at);
        return out;
      }
      const out = new Uint8Array(bytes.length + bad.length);
      out.set(bytes.subarray(0, at));
      out.set(bad, at);
      out.set(bytes.subarray(at), at + bad.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(n + bad.length), true);
      return out;
    }
    case 'bit-flips': {
      const out = bytes.slice();
      for (let k = 0; k <= z % 4; k++) {
        const bit = (x * (k + 1) + y * k) % (out.length * 8);
        out[bit >> 3] ^= 1 << (bit & 7);
      }
      return out;
    }
    case 'set-bytes': {
      const out = bytes.slice();
      for (let k = 0; k <= z % 3; k++) out[(x + k * 7919) % out.length] = (y >> (8 * k)) & 0xff;
      return out;
    }
    case 'truncate':
      return bytes.subarray(0, x % (bytes.length + 1));
    case 'insert-bytes': {
      const at = x % (bytes.length + 1);
      const extra = Array.from({ length: 1 + (z % 4) }, (_, k) => (y >> (4 * k)) & 0xff);
      return new Uint8Array([...bytes.subarray(0, at), ...extra, ...bytes.subarray(at)]);
    }
    case 'data-length':
      return x % 2 ? new Uint8Array([...bytes, ...new Uint8Array(1 + (y % 8))]) : bytes.subarray(0, Math.max(8, bytes.length - 1 - (y % 8)));
    case 'header-length': {
      const choices = [BigInt(n + 1), BigInt(Math.max(0, n - 1)), 0n, 1n, BigInt(bytes.length), BigInt(bytes.length - 8), 100_000_000n, 100_000_001n, 1n << 63n, (1n << 64n) - 1n, BigInt(n + (z % 16) - 8)];
      const out = bytes.slice();
      const v = pick(choices, x);
      new DataView(out.buffer).setBigUint64(0, v < 0n ? 0n : v, true);
      return out;
    }
    default:
      void model;
      return bytes;
  }
}

/** A file: the base description built, each mutation applied in turn (text edits first, then byte edits). */
export function buildFile(spec: BaseSpec, mutations: Mutation[]): Uint8Array {
  const model = buildModel(spec);
  for (const mu of mutations) TEXT_EDITS[mu.kind]?.(model, mu.x, mu.y, mu.z);
  let bytes = encode(model);
  for (const mu of mutations) if (!TEXT_EDITS[mu.kind]) bytes = byteEdit(bytes, model, mu);
  return bytes;
}

/** A base description and 0–3 mutations (none for about a quarter of the files: valid files stay common). */
export const fuzzCase = fc.tuple(baseSpec, fc.oneof({ weight: 1, arbitrary: fc.constant([] as Mutation[]) }, { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }));
