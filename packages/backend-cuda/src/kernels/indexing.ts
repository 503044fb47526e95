import type { DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, GRID_LOOP, type KernelSource, PRELUDE, checkRank } from './common.js';

/**
 * Embedding gather / scatter-add and the SIFT flat-index gather / scatter. Indices are int32, contiguous
 * (the backend copies a strided index view first). A kernel cannot throw: an out-of-range index is skipped and
 * reported through the device error word `err` ([code, index, limit]), which the backend checks at its next
 * synchronisation and turns into the RangeError the CPU backend throws at once.
 */

export const INDEX_ERROR = { gatherRows: 1, scatterAddRows: 2, gatherFlat: 3, scatterFlat: 4, adamwIncrement: 5 } as const;

/** Records the first bad index (shared by indexing and sparse AdamW). */
export const REPORT_INDEX = `
__device__ __forceinline__ void report_index(int* err, int code, i64 index, i64 limit) {
  if (atomicCAS(err, 0, code) == 0) {
    err[1] = (int)index;
    err[2] = (int)limit;
  }
}
`;

/** out[i, j] = table[ids[i], j] for a strided [V, D] table (row stride rs, column stride cs). */
export function gatherRowsKernel(dtype: DType): KernelSource {
  const T = C_TYPE[dtype];
  const name = `gather_rows_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}${REPORT_INDEX}
extern "C" __global__ void ${name}(const ${T}* __restrict__ table, const int* __restrict__ ids, ${T}* __restrict__ out, i64 n, i64 d, i64 v, i64 offset, i64 rs, i64 cs, int* err) {
  ${GRID_LOOP} {
    const i64 row = i / d, j = i % d;
    const int id = ids[row];
    if (id < 0 || (i64)id >= v) {
      report_index(err, ${INDEX_ERROR.gatherRows}, id, v);
      out[i] = (${T})0;
      continue;
    }
    out[i] = table[offset + (i64)id * rs + j * cs];
  }
}
`;
  return { name, source, options: [] };
}

function atomicAddable(dtype: DType, what: string): void {
  if (dtype === 'bool') throw new TypeError(`${what}: no atomic add for bool`);
}

/** out (zeroed, [rows, d]) += src[i, :] into row ids[i]; atomic adds (float sums' order is not fixed). */
export function scatterAddRowsKernel(dtype: DType): KernelSource {
  atomicAddable(dtype, 'scatterAddRows');
  const T = C_TYPE[dtype];
  const name = `scatter_add_rows_${DTYPE_TAG[dtype]}`;
  const source = `${PRELUDE}${REPORT_INDEX}
extern "C" __global__ void ${name}(const int* __restrict__ ids, const ${T}* __restrict__ src, ${T}* __restrict__ out, i64 n, i64 d, i64 rows, int* err) {
  ${GRID_LOOP} {
    const i64 k = i / d, j = i % d;
    const int id = ids[k];
    if (id < 0 || (i64)id >= rows) {
      report_index(err, ${INDEX_ERROR.scatterAddRows}, id, rows);
      continue;
    }
    atomicAdd(&out[(i64)id * d + j], src[i]);
  }
}
`;
  return { name, source, options: [] };
}

/** out[i] = x.flat[idx[i]] over a strided view of rank R (flat = row-major order of the view). */
export function gatherFlatKernel(dtype: DType, rank: number): KernelSource {
  checkRank(rank, 'gatherFlat');
  const T = C_TYPE[dtype];
  const name = `gather_flat_${DTYPE_TAG[dtype]}_r${rank}`;
  const source = `${PRELUDE}${REPORT_INDEX}
extern "C" __global__ void ${name}(const ${T}* __restrict__ x, const int* __restrict__ idx, ${T}* __restrict__ out, i64 n, i64 size, Geo g, int* err) {
  ${GRID_LOOP} {
    const int k = idx[i];
    if (k < 0 || (i64)k >= size) {
      report_index(err, ${INDEX_ERROR.gatherFlat}, k, size);
      out[i] = (${T})0;
      continue;
    }
    out[i] = x[geo_offset<${rank}>(g, 0, (i64)k)];
  }
}
`;
  return { name, source, options: [] };
}

/** dst[idx[i]] = src[i] ('set'; with repeated indices one of the writes wins) or += src[i] ('add', atomic). */
export function scatterFlatKernel(dtype: DType, mode: 'set' | 'add'): KernelSource {
  if (mode === 'add') atomicAddable(dtype, 'scatterFlat add');
  const T = C_TYPE[dtype];
  const name = `scatter_flat_${mode}_${DTYPE_TAG[dtype]}`;
  const write = mode === 'add' ? 'atomicAdd(&dst[k], src[i]);' : 'dst[k] = src[i];';
  const source = `${PRELUDE}${REPORT_INDEX}
extern "C" __global__ void ${name}(${T}* __restrict__ dst, const int* __restrict__ idx, const ${T}* __restrict__ src, i64 n, i64 size, int* err) {
  ${GRID_LOOP} {
    const int k = idx[i];
    if (k < 0 || (i64)k >= size) {
      report_index(err, ${INDEX_ERROR.scatterFlat}, k, size);
      continue;
    }
    ${write}
  }
}
`;
  return { name, source, options: [] };
}

/** |x| of a strided view into a contiguous double buffer, NaN as +inf (the input of top-k selection). */
export function magnitudeKernel(dtype: DType, rank: number): KernelSource {
  checkRank(rank, 'magnitude');
  const name = `magnitude_${DTYPE_TAG[dtype]}_r${rank}`;
  const source = `${PRELUDE}
extern "C" __global__ void ${name}(const ${C_TYPE[dtype]}* __restrict__ x, double* __restrict__ out, i64 n, Geo g) {
  ${GRID_LOOP} {
    const double v = fabs((double)x[geo_offset<${rank}>(g, 0, i)]);
    out[i] = v != v ? SIFT_INF : v;
  }
}
`;
  return { name, source, options: [] };
}
