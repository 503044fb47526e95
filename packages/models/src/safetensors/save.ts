import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { BackendError, type DType, fmtShape, Tensor, type TypedArray } from '@siftjs/tensor';
import { encode } from './convert.js';
import { SafetensorsError, ST_BYTES, type StDType } from './format.js';

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
  /** Stored type for float tensors (default F32). */
  floatType?: 'F32' | 'F16' | 'BF16';
  /** Stored type for int32 tensors (default I32; I64 as PyTorch writes index tensors). */
  intType?: 'I32' | 'I64';
}

/** Values already on the host, saved as they are, with no backend involved (a sparse delta's increments). */
export interface HostTensor {
  dtype: DType;
  shape: readonly number[];
  data: TypedArray;
}

/** What a save accepts per name: a tensor on any backend, or host values. */
export type Saveable = Tensor | HostTensor;

const STORED: Record<DType, StDType> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

interface Entry {
  name: string;
  source: Saveable;
  stored: StDType;
  bytes: number;
}

/** The header (length field + padded JSON) and the entries in file order; offsets follow from the shapes alone. */
function plan(tensors: Record<string, Saveable>, { metadata, floatType = 'F32', intType = 'I32' }: SaveOptions): { head: Uint8Array; entries: Entry[] } {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const entries: Entry[] = [];
  let at = 0;
  for (const name of Object.keys(tensors).sort()) {
    const source = tensors[name];
    const { dtype, shape } = source;
    // float64 stays F64 unless a narrower float type was asked for.
    const stored = dtype === 'float32' || dtype === 'float64' ? (dtype === 'float64' && floatType === 'F32' ? 'F64' : floatType) : dtype === 'int32' ? intType : STORED[dtype];
    const bytes = shape.reduce((a, b) => a * b, 1) * ST_BYTES[stored];
    header[name] = { dtype: stored, shape: [...shape], data_offsets: [at, at + bytes] };
    entries.push({ name, source, stored, bytes });
    at += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the reference pads the header to 8 bytes
  const jsonBytes = new TextEncoder().encode(json);
  const head = new Uint8Array(8 + jsonBytes.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  head.set(jsonBytes, 8);
  return { head, entries };
}

function encodeEntry(path: string, e: Entry, values: TypedArray): Uint8Array {
  const bytes = encode(values, e.stored);
  if (bytes.length !== e.bytes) {
    throw new SafetensorsError(path, `tensor '${e.name}': ${values.length} values do not fill shape ${fmtShape(e.source.shape)}`);
  }
  return bytes;
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
  const { head, entries } = plan(tensors, options);
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
    for (const e of entries) out.write(encodeEntry(path, e, e.source instanceof Tensor ? e.source.toArraySync() : e.source.data));
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
  const { head, entries } = plan(tensors, options);
  const out = new TempFile(path);
  try {
    out.write(head);
    for (const e of entries) out.write(encodeEntry(path, e, e.source instanceof Tensor ? await e.source.toArray() : e.source.data));
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
}
