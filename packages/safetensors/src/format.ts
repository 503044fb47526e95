import type { DType } from '@siftjs/tensor';

/**
 * The safetensors layout (huggingface/safetensors, README "Format"): an 8-byte little-endian header length N, N
 * bytes of UTF-8 JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }`
 * (beginning with `{`, padded at the end with spaces), then the byte buffer, which the tensors tile exactly.
 * header.ts holds every rule a header must follow.
 */

/** Every dtype the format lists (tensor.rs `enum Dtype`), with its size in bits: F4 and F6 pack below a byte. */
export const ST_BITS = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
} as const;

export type StDType = keyof typeof ST_BITS;

export const isStDType = (s: string): s is StDType => Object.hasOwn(ST_BITS, s);

/**
 * The siftjs dtype each stored dtype loads as: floats as themselves (F16 as float16 and BF16 as bfloat16, their bits
 * unchanged, where the backend stores half tensors; float32 elsewhere), every integer type as int32 (the 32- and
 * 64-bit unsigned and int64 ones only when each value fits). The rest — F4, F6, F8, C64 — are parsed and their bytes
 * can be read (`readBytes`), but no tensor dtype here holds them.
 */
export const LOADS_AS: Partial<Record<StDType, DType>> = {
  F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16', BOOL: 'bool',
  I8: 'int32', U8: 'int32', I16: 'int32', U16: 'int32', I32: 'int32', U32: 'int32', I64: 'int32', U64: 'int32',
};

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

/** The largest header we accept: the reference implementation's limit (tensor.rs MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;

/** A name as messages show it: quoted, with what would break the line or the quotes escaped as JSON does. */
export const quoted = (name: string): string => `'${JSON.stringify(name).slice(1, -1)}'`;
