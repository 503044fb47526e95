import { closeSync, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { type DType, supportsDtype, type Tensor, type TypedArray, tensor, tensorFromBits } from '@siftjs/tensor';
import { decode, halfBits } from './convert.js';
import { MAX_HEADER_BYTES, quoted, SafetensorsError, type TensorInfo } from './format.js';
import { parseHeader } from './header.js';

/** Where a safetensors file's bytes come from: a file descriptor in Node, or bytes already in memory (a browser). */
interface ByteSource {
  size: number;
  /** Exactly `length` bytes at `position` (the caller checked they lie inside `size`). */
  readAt(position: number, length: number): Uint8Array;
  /** The same, for a source that reads asynchronously (a browser's Blob); `readAt` then serves the header only. */
  readAtAsync?(position: number, length: number): Promise<Uint8Array>;
  close(): void;
}

/**
 * A safetensors file opened for reading one tensor at a time: only the header is read on open, and each tensor's
 * bytes when asked for, so a checkpoint larger than memory can be streamed into a model.
 */
export class SafetensorsFile {
  private readonly source: ByteSource;
  private readonly dataStart: number;
  private readonly byName: Map<string, TensorInfo>;
  readonly metadata: Record<string, string>;

  /** `path` names the file in every error (for bytes, what they are: a URL, a file the user picked). */
  private constructor(
    readonly path: string,
    source: () => ByteSource,
  ) {
    this.source = source();
    try {
      const size = this.source.size;
      if (size < 8) throw new SafetensorsError(path, `truncated: ${size} bytes, shorter than the 8-byte header length`);
      const lenBytes = this.readAt(0, 8);
      const n = new DataView(lenBytes.buffer).getBigUint64(0, true);
      if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(path, `header length ${n} is larger than the ${MAX_HEADER_BYTES}-byte limit`);
      if (n > BigInt(size - 8)) throw new SafetensorsError(path, `header length ${n} runs past the end of the file (${size} bytes)`);
      const headerBytes = Number(n);
      this.dataStart = 8 + headerBytes;
      const { tensors, metadata } = parseHeader(path, this.readAt(8, headerBytes), size - this.dataStart);
      this.byName = new Map(tensors.map((t) => [t.name, t]));
      this.metadata = metadata;
    } catch (e) {
      this.source.close();
      throw e;
    }
  }

  static open(path: string): SafetensorsFile {
    return new SafetensorsFile(path, () => fileSource(path));
  }

  /**
   * A file whose bytes are in memory (fetched, or read from a file the user picked in a browser); `name` stands for
   * its path in errors. The tensors read from it are copies: `bytes` may be dropped after.
   */
  static fromBytes(name: string, bytes: Uint8Array): SafetensorsFile {
    return new SafetensorsFile(name, () => ({ size: bytes.length, readAt: (at, n) => bytes.slice(at, at + n), close: () => {} }));
  }

  /**
   * A file read through `Blob.slice` (a file the user picked or dropped in a browser, a fetched response's blob):
   * the header is read on open and each tensor's bytes when `readAsync` asks for them, so the whole file is never
   * in memory at once. The synchronous reads (`read`, `readBytes`) refuse: a Blob has no synchronous read.
   */
  static async fromBlob(name: string, blob: Blob): Promise<SafetensorsFile> {
    const read = async (at: number, n: number) => new Uint8Array(await blob.slice(at, at + n).arrayBuffer());
    // The 8-byte length and, when that length is plausible, the header: what the constructor parses. An
    // implausible length is left for the constructor to report.
    let head = blob.size >= 8 ? await read(0, 8) : new Uint8Array(0);
    if (head.length === 8) {
      const n = new DataView(head.buffer).getBigUint64(0, true);
      if (n <= BigInt(Math.min(MAX_HEADER_BYTES, blob.size - 8))) head = await read(0, 8 + Number(n));
    }
    return new SafetensorsFile(name, () => ({
      size: blob.size,
      readAt(at, n) {
        if (at + n > head.length) throw new SafetensorsError(name, 'is read asynchronously (a Blob): use readAsync');
        return head.slice(at, at + n);
      },
      readAtAsync: read,
      close: () => {},
    }));
  }

  keys(): string[] {
    return [...this.byName.keys()];
  }

  info(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (!t) throw new SafetensorsError(this.path, `no tensor named ${quoted(name)}`);
    return t;
  }

  /** One tensor's stored bytes, as they are in the file (little-endian, row-major), whatever its dtype. */
  readBytes(name: string): Uint8Array {
    const t = this.info(name);
    return this.readAt(this.dataStart + t.begin, t.end - t.begin);
  }

  /**
   * One tensor's values on the host: F16/BF16 widened exactly to float32, integers as int32. A dtype no tensor here
   * holds (F4, F6, F8, C64), or a 64-bit or unsigned 32-bit value outside int32, is a SafetensorsError naming the
   * tensor.
   */
  readArray(name: string): TypedArray {
    return decode(this.readBytes(name), this.info(name).dtype, this.path, name);
  }

  /**
   * One tensor, in the dtype it loads as (LOADS_AS: F16 and BF16 as float16 / bfloat16 tensors holding the file's
   * bits, where the current backend stores half tensors, else widened to float32) or converted to `dtype`. A half
   * tensor asked for as another half dtype or as float32 is converted once from its stored values.
   */
  read(name: string, dtype?: DType): Tensor {
    return this.toTensor(name, this.readBytes(name), dtype);
  }

  /** `readBytes` from any source (a Blob's included), without blocking. */
  async readBytesAsync(name: string): Promise<Uint8Array> {
    const t = this.info(name);
    const [at, n] = [this.dataStart + t.begin, t.end - t.begin];
    if (at + n > this.source.size) throw new SafetensorsError(this.path, `truncated: expected ${n} bytes at offset ${at}`);
    return this.source.readAtAsync ? this.source.readAtAsync(at, n) : this.source.readAt(at, n);
  }

  /** `read` from any source (a Blob's included): the same tensor, its bytes read without blocking. */
  async readAsync(name: string, dtype?: DType): Promise<Tensor> {
    return this.toTensor(name, await this.readBytesAsync(name), dtype);
  }

  /** A tensor of one entry's stored bytes, as `read` describes. */
  private toTensor(name: string, bytes: Uint8Array, dtype?: DType): Tensor {
    const t = this.info(name);
    const half = t.dtype === 'F16' ? 'float16' : t.dtype === 'BF16' ? 'bfloat16' : null;
    const out =
      half && (dtype === half || (dtype === undefined && supportsDtype(half)))
        ? tensorFromBits(halfBits(bytes), half, { shape: t.shape })
        : tensor(decode(bytes, t.dtype, this.path, name), { shape: t.shape });
    if (!dtype || dtype === out.dtype) return out;
    const cast = out.cast(dtype);
    out.dispose();
    return cast;
  }

  close(): void {
    this.source.close();
  }

  private readAt(position: number, length: number): Uint8Array {
    if (position + length > this.source.size) throw new SafetensorsError(this.path, `truncated: expected ${length} bytes at offset ${position}`);
    return this.source.readAt(position, length);
  }
}

/** `path` opened for reading with positioned reads. */
function fileSource(path: string): ByteSource {
  const fd = openFile(path);
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return {
    size,
    readAt(position, length) {
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const got = readSync(fd, buf, done, length - done, position + done);
        if (got === 0) throw new SafetensorsError(path, `truncated: expected ${length} bytes at offset ${position}`);
        done += got;
      }
      return buf;
    },
    close: () => closeSync(fd),
  };
}

/**
 * Opens `path` for reading, or says in a SafetensorsError why not. Only a regular file: a FIFO would block the open
 * until something writes to it, and a directory or device is no safetensors file.
 */
function openFile(path: string): number {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SafetensorsError(path, code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? (e as Error).message})`);
  }
  if (!st.isFile()) throw new SafetensorsError(path, `is ${st.isDirectory() ? 'a directory' : 'not a regular file'}, not a safetensors file`);
  try {
    return openSync(path, 'r');
  } catch (e) {
    throw new SafetensorsError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
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

