import { closeSync, fstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { type DType, type Tensor, type TypedArray, tensor } from '@siftjs/tensor';
import { decode, encode } from './convert.js';
import { MAX_HEADER_BYTES, SafetensorsError, type StDType, type TensorInfo, parseHeader } from './format.js';

/**
 * A safetensors file opened for reading one tensor at a time: only the header is read on open, and each tensor's
 * bytes when asked for, so a checkpoint larger than memory can be streamed into a model.
 */
export class SafetensorsFile {
  private readonly fd: number;
  private readonly dataStart: number;
  private readonly byName: Map<string, TensorInfo>;
  readonly metadata: Record<string, string>;

  private constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    try {
      const size = fstatSync(this.fd).size;
      if (size < 8) throw new SafetensorsError(path, `truncated: ${size} bytes, shorter than the 8-byte header length`);
      const lenBytes = this.readAt(0, 8);
      const n = new DataView(lenBytes.buffer).getBigUint64(0, true);
      if (n > BigInt(size - 8)) throw new SafetensorsError(path, `header length ${n} runs past the end of the file (${size} bytes)`);
      if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(path, `header length ${n} is larger than the ${MAX_HEADER_BYTES}-byte limit`);
      const headerBytes = Number(n);
      const json = new TextDecoder('utf-8', { fatal: false }).decode(this.readAt(8, headerBytes));
      this.dataStart = 8 + headerBytes;
      const { tensors, metadata } = parseHeader(path, json, size - this.dataStart);
      this.byName = new Map(tensors.map((t) => [t.name, t]));
      this.metadata = metadata;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  static open(path: string): SafetensorsFile {
    return new SafetensorsFile(path);
  }

  keys(): string[] {
    return [...this.byName.keys()];
  }

  info(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (!t) throw new SafetensorsError(this.path, `no tensor named '${name}'`);
    return t;
  }

  /** One tensor's values on the host, decoded as it loads (F16/BF16 → float32, I64 → int32). */
  readArray(name: string): TypedArray {
    const t = this.info(name);
    const bytes = this.readAt(this.dataStart + t.begin, t.end - t.begin);
    return decode(bytes, t.dtype, t.shape.reduce((a, b) => a * b, 1), () => `${this.path}: tensor '${name}'`);
  }

  /** One tensor, converted to the dtype it loads as (F16/BF16 → float32, I64 → int32) or to `dtype`. */
  read(name: string, dtype?: DType): Tensor {
    const t = this.info(name);
    const out = tensor(this.readArray(name), { shape: t.shape });
    if (!dtype || dtype === out.dtype) return out;
    const cast = out.cast(dtype);
    out.dispose();
    return cast;
  }

  close(): void {
    closeSync(this.fd);
  }

  private readAt(position: number, length: number): Uint8Array {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const got = readSync(this.fd, buf, done, length - done, position + done);
      if (got === 0) throw new SafetensorsError(this.path, `truncated: expected ${length} bytes at offset ${position}`);
      done += got;
    }
    return buf;
  }
}

/** Every tensor of a file, by name. */
export function loadSafetensors(path: string): Record<string, Tensor> {
  const f = SafetensorsFile.open(path);
  try {
    return Object.fromEntries(f.keys().map((k) => [k, f.read(k)]));
  } finally {
    f.close();
  }
}

export interface SaveOptions {
  metadata?: Record<string, string>;
  /** Stored type for float tensors (default F32). */
  floatType?: 'F32' | 'F16' | 'BF16';
  /** Stored type for int32 tensors (default I32; I64 as PyTorch writes index tensors). */
  intType?: 'I32' | 'I64';
}

const STORED: Record<DType, StDType> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

/**
 * Writes tensors in name order to `path` through a temporary file and a rename, so a crash mid-write leaves the
 * previous file intact.
 */
export function saveSafetensors(path: string, tensors: Record<string, Tensor>, { metadata, floatType = 'F32', intType = 'I32' }: SaveOptions = {}): void {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let at = 0;
  for (const name of names) {
    const t = tensors[name];
    const dtype =
      t.dtype === 'float32' || t.dtype === 'float64' ? (t.dtype === 'float64' && floatType === 'F32' ? 'F64' : floatType) : t.dtype === 'int32' ? intType : STORED[t.dtype];
    const bytes = encode(t.toArraySync(), dtype);
    header[name] = { dtype, shape: t.shape, data_offsets: [at, at + bytes.length] };
    blobs.push(bytes);
    at += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the reference pads the header to 8 bytes
  const headerBytes = new TextEncoder().encode(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    for (const chunk of [len, headerBytes, ...blobs]) writeSync(fd, chunk);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to remove
    }
    throw e;
  }
}
