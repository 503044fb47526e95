import { type Json, JsonSyntaxError, kindOf, parseJson } from './json.js';
import { isStDType, quoted, ST_BITS, SafetensorsError, type StDType, type TensorInfo } from './format.js';

/*
 * Every rule a header must follow, from the format (huggingface/safetensors README "Format", and the checks of its
 * reference reader, safetensors/src/tensor.rs). Where the README is stricter than that reader, the README holds:
 * the header begins with `{` and only spaces (0x20) may follow the object. Two choices the README leaves open are
 * taken the strict way: a tensor entry has exactly `dtype`, `shape` and `data_offsets` (an unknown field — a typo,
 * or an extension this reader does not know — would otherwise be ignored without a word), and integers are plain
 * digits, as the reference's `usize` fields demand. Every defect is a SafetensorsError naming the file.
 */

const U64_MAX = (1n << 64n) - 1n;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface Header {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
}

/** Parses and validates the header's bytes; `dataBytes` is the size of the byte buffer after it. */
export function parseHeader(file: string, bytes: Uint8Array, dataBytes: number): Header {
  const bad = (defect: string): never => {
    throw new SafetensorsError(file, defect);
  };
  if (bytes.length === 0) bad('the header is empty (its length field is 0)');
  if (bytes[0] !== 0x7b) bad(`the header does not begin with '{' (its first byte is 0x${bytes[0].toString(16).padStart(2, '0')})`);
  let text = '';
  try {
    text = utf8.decode(bytes);
  } catch {
    bad('the header is not valid UTF-8');
  }
  let json: { value: Json; end: number };
  try {
    json = parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) return bad(`invalid header JSON (${e.message})`);
    throw e;
  }
  const rest = text.slice(json.end);
  if (!/^ *$/.test(rest)) bad(`the header has ${JSON.stringify(rest.slice(0, 20))} after its JSON object; only spaces may pad it`);
  // Only an object begins with '{'.
  const members = (json.value as Extract<Json, { type: 'object' }>).members;

  const seen = new Set<string>();
  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, value] of members) {
    if (seen.has(name)) bad(name === '__metadata__' ? "'__metadata__' appears twice in the header" : `tensor ${quoted(name)} appears twice in the header (duplicate keys are not allowed)`);
    seen.add(name);
    if (name === '__metadata__') metadata = parseMetadata(value, bad);
    else tensors.push(parseEntry(name, value, dataBytes, bad));
  }
  checkTiling(tensors, dataBytes, bad);
  return { tensors, metadata };
}

type Bad = (defect: string) => never;

/** `__metadata__`: a string-to-string map, nothing else. */
function parseMetadata(value: Json, bad: Bad): Record<string, string> {
  if (value.type !== 'object') return bad(`__metadata__ is ${kindOf(value)}, not an object of strings`);
  const out: [string, string][] = [];
  const keys = new Set<string>();
  for (const [k, v] of value.members) {
    if (keys.has(k)) bad(`__metadata__ key ${quoted(k)} appears twice`);
    keys.add(k);
    if (v.type !== 'string') bad(`__metadata__ value ${quoted(k)} is ${kindOf(v)}, not a string`);
    out.push([k, (v as { value: string }).value]);
  }
  // fromEntries defines each key as an own property, '__proto__' included.
  return Object.fromEntries(out);
}

function parseEntry(name: string, value: Json, dataBytes: number, bad: Bad): TensorInfo {
  const where = `tensor ${quoted(name)}`;
  if (value.type !== 'object') return bad(`${where}: entry is ${kindOf(value)}, not an object`);
  const fields = new Map<string, Json>();
  for (const [k, v] of value.members) {
    if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') bad(`${where}: unknown field ${quoted(k)} (an entry has dtype, shape and data_offsets)`);
    if (fields.has(k)) bad(`${where}: field '${k}' appears twice`);
    fields.set(k, v);
  }
  for (const k of ['dtype', 'shape', 'data_offsets']) if (!fields.has(k)) bad(`${where}: missing field '${k}'`);
  const d = fields.get('dtype')!;
  if (d.type !== 'string' || !isStDType(d.value)) return bad(`${where}: unknown dtype ${d.type === 'string' ? quoted(d.value) : render(d)}`);
  const dtype: StDType = d.value;

  const shapeJson = fields.get('shape')!;
  const dims = naturals(shapeJson);
  if (!dims) return bad(`${where}: shape ${render(shapeJson)} is not a list of non-negative integers`);
  const offJson = fields.get('data_offsets')!;
  const off = naturals(offJson);
  if (!off || off.length !== 2 || off[0] > off[1]) return bad(`${where}: data_offsets ${render(offJson)} are not [begin, end] with 0 ≤ begin ≤ end`);
  const [begin, end] = off;
  if (end > BigInt(dataBytes)) bad(`${where}: data_offsets [${begin}, ${end}] run past the data section (${dataBytes} bytes)`);

  // The element count and bit count as the reference checks them: a running product that must stay within 64 bits.
  let elements = 1n;
  for (const x of dims) {
    elements *= x;
    if (elements > U64_MAX) bad(`${where}: shape [${dims.join(', ')}] overflows: its element count passes 2^64 - 1`);
  }
  const bits = elements * BigInt(ST_BITS[dtype]);
  if (bits > U64_MAX) bad(`${where}: shape [${dims.join(', ')}] overflows: ${elements} elements of ${dtype} pass 2^64 - 1 bits`);
  // Past the format's rules, this reader's limit: a JS number holds dimensions up to 2^53 - 1 exactly (only an
  // empty tensor can have a larger one).
  const huge = dims.find((x) => x > BigInt(Number.MAX_SAFE_INTEGER));
  if (huge !== undefined) bad(`${where}: shape [${dims.join(', ')}] has dimension ${huge}, larger than 2^53 - 1, the largest siftjs represents`);
  if (bits % 8n !== 0n) bad(`${where}: ${elements} elements of ${dtype} (${ST_BITS[dtype]} bits each) do not fill whole bytes`);
  if (end - begin !== bits / 8n) {
    bad(`${where}: shape [${dims.join(', ')}] of ${dtype} needs ${bits / 8n} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, dtype, shape: dims.map(Number), begin: Number(begin), end: Number(end) };
}

/** A JSON array of integers written as plain digits that fit in 64 bits, or null. */
function naturals(v: Json): bigint[] | null {
  if (v.type !== 'array') return null;
  const out: bigint[] = [];
  for (const x of v.items) {
    if (x.type !== 'number' || !/^(0|[1-9][0-9]*)$/.test(x.text)) return null;
    const n = BigInt(x.text);
    if (n > U64_MAX) return null;
    out.push(n);
  }
  return out;
}

/** A JSON value as the file spells it, for messages (short values only: shapes, offsets, dtypes). */
function render(v: Json): string {
  const text = v.type === 'array' ? `[${v.items.map(render).join(',')}]` : v.type === 'number' ? v.text : v.type === 'string' ? JSON.stringify(v.value) : v.type === 'object' ? '{…}' : String(v.value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Tensors must tile the data section exactly: in offset order, no overlap, no gap, nothing left over. */
function checkTiling(tensors: TensorInfo[], dataBytes: number, bad: Bad): void {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: TensorInfo | null = null;
  for (const t of sorted) {
    if (t.begin < at) bad(`tensors ${quoted(prev!.name)} and ${quoted(t.name)} overlap (bytes ${t.begin}–${at})`);
    if (t.begin > at) bad(`bytes ${at}–${t.begin} of the data section belong to no tensor`);
    at = t.end;
    prev = t;
  }
  if (at !== dataBytes) bad(`bytes ${at}–${dataBytes} of the data section belong to no tensor`);
}
