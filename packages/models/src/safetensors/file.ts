import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type DType, type Tensor, type TypedArray, tensor } from '@siftjs/tensor';
import { decode } from './convert.js';
import { MAX_HEADER_BYTES, SafetensorsError, type TensorInfo, parseHeader } from './format.js';

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
