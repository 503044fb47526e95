import type { DType } from '@siftjs/tensor';

/**
 * The safetensors layout (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }`, then the data;
 * offsets are relative to the start of the data and the tensors tile it exactly, in order, with no gaps.
 */

export type StDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const ST_BYTES: Record<StDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** The siftjs dtype each stored dtype loads as (half floats widen to float32, 64-bit ints narrow to int32). */
export const LOADS_AS: Partial<Record<StDType, DType>> = { F64: 'float64', F32: 'float32', F16: 'float32', BF16: 'float32', I64: 'int32', I32: 'int32', BOOL: 'bool' };

export interface TensorInfo {
  name: string;
  dtype: StDType;
  shape: number[];
  /** Byte range within the data section. */
  begin: number;
  end: number;
}

export class SafetensorsError extends Error {
  constructor(
    readonly file: string,
    readonly defect: string,
  ) {
    super(`${file}: ${defect}`);
    this.name = 'SafetensorsError';
  }
}

/** The largest header we accept; the reference implementation caps it at 100 MB too. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Parses and validates a header; `dataBytes` is the size of the data section. */
export function parseHeader(file: string, json: string, dataBytes: number): { tensors: TensorInfo[]; metadata: Record<string, string> } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new SafetensorsError(file, `invalid header JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SafetensorsError(file, 'the header is not a JSON object');
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null) throw new SafetensorsError(file, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw new SafetensorsError(file, `__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.push(parseEntry(file, name, entry, dataBytes));
  }
  checkTiling(file, tensors, dataBytes);
  return { tensors, metadata };
}

function parseEntry(file: string, name: string, entry: unknown, dataBytes: number): TensorInfo {
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof entry !== 'object' || entry === null) throw new SafetensorsError(file, `tensor '${name}': entry is not an object`);
  if (typeof e.dtype !== 'string' || !(e.dtype in ST_BYTES)) throw new SafetensorsError(file, `tensor '${name}': unknown dtype '${String(e.dtype)}'`);
  const dtype = e.dtype as StDType;
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(file, `tensor '${name}': shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
  }
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
    throw new SafetensorsError(file, `tensor '${name}': data_offsets ${JSON.stringify(off)} are not [begin, end] with 0 ≤ begin ≤ end`);
  }
  const [begin, end] = off as [number, number];
  if (end > dataBytes) throw new SafetensorsError(file, `tensor '${name}': data_offsets [${begin}, ${end}] run past the data section (${dataBytes} bytes)`);
  const shape = e.shape as number[];
  const need = shape.reduce((a, b) => a * b, 1) * ST_BYTES[dtype];
  if (end - begin !== need) {
    throw new SafetensorsError(file, `tensor '${name}': shape [${shape.join(', ')}] of ${dtype} needs ${need} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, dtype, shape, begin, end };
}

/** Tensors must tile the data section exactly: no overlap, no gap, nothing left over. */
function checkTiling(file: string, tensors: TensorInfo[], dataBytes: number): void {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: TensorInfo | null = null;
  for (const t of sorted) {
    if (t.begin < at) throw new SafetensorsError(file, `tensors '${prev?.name}' and '${t.name}' overlap (bytes ${t.begin}–${at})`);
    if (t.begin > at) throw new SafetensorsError(file, `bytes ${at}–${t.begin} of the data section belong to no tensor`);
    at = t.end;
    prev = t;
  }
  if (at !== dataBytes) throw new SafetensorsError(file, `bytes ${at}–${dataBytes} of the data section belong to no tensor`);
}
