import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { BackendError, type DType, fmtShape, isHalf, Tensor, type TypedArray } from '@siftjs/tensor';
import { encode } from './convert.js';
import { MAX_HEADER_BYTES, quoted, SafetensorsError, ST_BITS, type StDType } from './format.js';

/*
 * Saving, from any backend. The file layout needs only names, dtypes and shapes, so the header is written first and
 * each tensor's bytes follow as they are read: one tensor's values are on the host at a time. The two entry points
 * differ only in how a tensor is read — `saveSafetensors` with `toArraySync()` (the CPU), `saveSafetensorsAsync`
 * with `await toArray()` (any backend, the GPUs whose reads are asynchronous included) — and write identical bytes.
 * We keep the synchronous form rather than making every save async: existing callers on the CPU keep working
 * unchanged, and a tensor it cannot read synchronously is refused before anything is written, naming the tensor,
 * its backend and the async form to use instead.
 */

export interface SaveOptions {
  metadata?: Record<string, string>;
  /** Stored type for float32 / float64 tensors (default F32; float64 stays F64). float16 and bfloat16 tensors are
   *  always written as themselves, F16 and BF16, bit for bit. */
  floatType?: 'F32' | 'F16' | 'BF16';
  /** Stored type for int32 tensors (default I32; I64 as PyTorch writes index tensors). */
  intType?: 'I32' | 'I64';
}

/** Values already on the host, saved as they are, with no backend involved (a sparse delta's increments). For a
 *  float16 / bfloat16 dtype, `data` is the 16-bit patterns (a Uint16Array), written unchanged. */
export interface HostTensor {
  dtype: DType;
  shape: readonly number[];
  data: TypedArray;
}

/** What a save accepts per name: a tensor on any backend, or host values. */
export type Saveable = Tensor | HostTensor;

const STORED: Record<DType, StDType> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL', float16: 'F16', bfloat16: 'BF16' };
const FLOAT_TYPES = ['F32', 'F16', 'BF16'];
const INT_TYPES = ['I32', 'I64'];

interface Entry {
  name: string;
  source: Saveable;
  stored: StDType;
  bytes: number;
}

/** A lone UTF-16 surrogate: no UTF-8 spelling exists for it, so a name holding one cannot be written as itself. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Refuses, before anything is written, every input that would make a file the format forbids (or one that does
 * not say what was asked): a tensor named `__metadata__`, names or metadata that are not well-formed Unicode,
 * metadata that is not string to string, a shape that is not a list of non-negative integers, host data of the
 * wrong length, an unknown dtype or stored type, a header past the format's size limit.
 */
function checkInputs(path: string, tensors: Record<string, Saveable>, { metadata, floatType = 'F32', intType = 'I32' }: SaveOptions): void {
  const bad = (defect: string): never => {
    throw new SafetensorsError(path, `cannot write: ${defect}`);
  };
  if (!FLOAT_TYPES.includes(floatType)) bad(`floatType ${quoted(String(floatType))} is not one of ${FLOAT_TYPES.join(', ')}`);
  if (!INT_TYPES.includes(intType)) bad(`intType ${quoted(String(intType))} is not one of ${INT_TYPES.join(', ')}`);
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) bad('metadata must be an object of strings');
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') bad(`metadata value ${quoted(k)} is ${v === null ? 'null' : typeof v}, not a string (the format allows only strings)`);
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) bad(`metadata ${quoted(k)} holds a lone UTF-16 surrogate, which UTF-8 cannot encode`);
    }
  }
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') bad("a tensor may not be named '__metadata__': the format reserves that key for metadata");
    if (LONE_SURROGATE.test(name)) bad(`tensor name ${quoted(name)} holds a lone UTF-16 surrogate, which UTF-8 cannot encode`);
    if (!Object.hasOwn(STORED, t.dtype)) bad(`tensor ${quoted(name)} has dtype ${quoted(String(t.dtype))}; one of ${Object.keys(STORED).join(', ')} is written`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`tensor ${quoted(name)}: shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
    if (!(t instanceof Tensor)) {
      const numel = t.shape.reduce((a, b) => a * b, 1);
      if (t.data?.length !== numel) bad(`tensor ${quoted(name)}: ${t.data?.length} values do not fill shape ${fmtShape(t.shape)} (${numel} elements)`);
    }
  }
}

/** The header (length field + padded JSON) and the entries in file order; offsets follow from the shapes alone. */
function plan(path: string, tensors: Record<string, Saveable>, options: SaveOptions): { head: Uint8Array; entries: Entry[] } {
  checkInputs(path, tensors, options);
  const { metadata, floatType = 'F32', intType = 'I32' } = options;
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = { ...metadata };
  const entries: Entry[] = [];
  let at = 0;
  for (const name of Object.keys(tensors).sort()) {
    const source = tensors[name];
    const { dtype, shape } = source;
    // float64 stays F64 unless a narrower float type was asked for.
    const stored = dtype === 'float32' || dtype === 'float64' ? (dtype === 'float64' && floatType === 'F32' ? 'F64' : floatType) : dtype === 'int32' ? intType : STORED[dtype];
    const bytes = (shape.reduce((a, b) => a * b, 1) * ST_BITS[stored]) / 8;
    // defineProperty, not assignment: a tensor named '__proto__' is a key like any other.
    Object.defineProperty(header, name, { value: { dtype: stored, shape: [...shape], data_offsets: [at, at + bytes] }, enumerable: true });
    entries.push({ name, source, stored, bytes });
    at += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // The reference pads the header with spaces to a multiple of 8 bytes (bytes, not characters).
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded > MAX_HEADER_BYTES) throw new SafetensorsError(path, `cannot write: the header would be ${padded} bytes, past the format's ${MAX_HEADER_BYTES}-byte limit`);
  const head = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { head, entries };
}

function encodeEntry(path: string, e: Entry, values: TypedArray): Uint8Array {
  const bytes = encode(values, e.stored, isHalf(e.source.dtype));
  if (bytes.length !== e.bytes) {
    throw new SafetensorsError(path, `tensor '${e.name}': ${values.length} values do not fill shape ${fmtShape(e.source.shape)}`);
  }
  return bytes;
}

/** A tensor's elements as they are written: values, or a half tensor's bit patterns. */
function storedSync(t: Tensor): TypedArray {
  return isHalf(t.dtype) ? t.toBitsSync() : t.toArraySync();
}

function stored(t: Tensor): Promise<TypedArray> {
  return isHalf(t.dtype) ? t.toBits() : t.toArray();
}

/** The file under a temporary name beside `path`: renamed into place on commit, removed on abort. */
class TempFile {
  private static count = 0;
  private readonly tmp: string;
  private readonly fd: number;
  private open = true;

  constructor(private readonly path: string) {
    // The counter keeps two saves to one path in flight at once (async saves) off each other's temporary file.
    this.tmp = `${path}.tmp-${process.pid}-${TempFile.count++}`;
    this.fd = openSync(this.tmp, 'w');
  }

  write(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done);
  }

  commit(): void {
    this.open = false;
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }

  abort(): void {
    try {
      if (this.open) closeSync(this.fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      // nothing to remove
    }
  }
}

/**
 * Writes tensors in name order to `path` through a temporary file and a rename, so a crash mid-write leaves the
 * previous file intact. Every tensor must be readable synchronously (the CPU); for tensors on an asynchronous
 * backend (WebGPU) use `saveSafetensorsAsync`, which writes the same bytes.
 */
export function saveSafetensors(path: string, tensors: Record<string, Saveable>, options: SaveOptions = {}): void {
  const { head, entries } = plan(path, tensors, options);
  for (const { name, source } of entries) {
    if (source instanceof Tensor && !source.backend.readSync) {
      throw new BackendError(
        `saveSafetensors(${path}): tensor '${name}' is on backend '${source.backend.name}', which reads asynchronously; use await saveSafetensorsAsync(...), or the Async form of the save that called it (savePretrainedAsync, saveWeightsAsync, saveStateAsync): the same file`,
      );
    }
  }
  const out = new TempFile(path);
  try {
    out.write(head);
    for (const e of entries) out.write(encodeEntry(path, e, e.source instanceof Tensor ? storedSync(e.source) : e.source.data));
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
}

/**
 * `saveSafetensors` for tensors on any backend: each is read with `await toArray()` as its turn to be written
 * comes. The same bytes, the same temporary-file-and-rename atomicity.
 */
export async function saveSafetensorsAsync(path: string, tensors: Record<string, Saveable>, options: SaveOptions = {}): Promise<void> {
  const { head, entries } = plan(path, tensors, options);
  const out = new TempFile(path);
  try {
    out.write(head);
    for (const e of entries) out.write(encodeEntry(path, e, e.source instanceof Tensor ? await stored(e.source) : e.source.data));
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
}

/**
 * The bytes `saveSafetensorsAsync` would write, in memory: for a browser, which has no file to rename into place
 * (a download, storage). `name` stands for the path in errors.
 */
export async function safetensorsBytes(name: string, tensors: Record<string, Saveable>, options: SaveOptions = {}): Promise<Uint8Array> {
  const { head, entries } = plan(name, tensors, options);
  const out = new Uint8Array(head.length + entries.reduce((n, e) => n + e.bytes, 0));
  out.set(head, 0);
  let at = head.length;
  for (const e of entries) {
    const bytes = encodeEntry(name, e, e.source instanceof Tensor ? await stored(e.source) : e.source.data);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}
