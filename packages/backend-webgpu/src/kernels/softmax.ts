/**
 * Backend.softmax: softmax / log-softmax over rows (the last dim(s) of a contiguous input). One workgroup per
 * row: its invocations stride over the columns and combine partial results in workgroup memory.
 * m = max(x); s = Σ exp(x − m); y = exp(x − m) / s, or for log-softmax y = x − m − log(s).
 * A float16 / bfloat16 row is computed in f32 and each output rounded once into the input's dtype.
 */
import { type BackendStorage, DTypeError, type View, isFloat, sizeOf } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Elem, HELPERS, Params, binding, grid, halfFunctions, paramBlock, pu } from '../wgsl/common.js';
import { rowMain, rowsWorkgroup } from './shared/rows.js';

export function softmax(rt: GpuRuntime, x: View, cols: number, log: boolean): BackendStorage {
  const label = `${log ? 'logSoftmax' : 'softmax'} ${x.dtype} ${shapeOf(x)} rows of ${cols}`;
  return rt.op(label, () => {
    if (!isFloat(x.dtype)) throw new DTypeError(`webgpu ${label}: float dtypes only`);
    const elem = rt.elem(x.dtype, label);
    const n = sizeOf(x.shape);
    const out = rt.make(x.dtype, n, 'softmax');
    if (n === 0 || cols === 0) return out;
    const rows = n / cols;
    const wg = rowsWorkgroup(rt, cols);
    const p = new Params().u32(rows).u32(cols).u32(x.offset).u32(0);
    rt.launch(label, softmaxSource(wg, log, elem), p, [out.buffer, rt.buf(x.storage, label)], grid(rows, rt.limits.maxComputeWorkgroupsPerDimension));
    return out;
  });
}

/** Words: rows, cols, x offset, (unused). */
const SOFTMAX_WORDS = 4;

/** Combines the invocations' `acc` across the workgroup into `max_all` or `sum_all` (softmaxBackward too). */
export function treeReduce(wg: number, op: 'max' | 'sum'): string {
  const combine = op === 'max' ? 'select(part[lid], part[lid + step], part[lid + step] > part[lid] || is_nan(part[lid + step]))' : 'part[lid] + part[lid + step]';
  return `part[lid] = acc;
    workgroupBarrier();
    for (var step = ${wg / 2}u; step > 0u; step = step >> 1u) {
        if (lid < step) { part[lid] = ${combine}; }
        workgroupBarrier();
    }
    let ${op}_all = part[0];
    workgroupBarrier();`;
}

function softmaxSource(wg: number, log: boolean, elem: Elem): string {
  return `${paramBlock(SOFTMAX_WORDS)}
${binding(1, 'out', elem, true)}
${binding(2, 'x', elem, false)}
${HELPERS}
${halfFunctions(elem)}
var<workgroup> part: array<f32, ${wg}>;
${rowMain(wg)}
    let xb = ${pu(2)} + row * cols;
    let ob = row * cols;
    var acc = neg_inf();
    for (var c = lid; c < cols; c += ${wg}u) {
        let v = x_at(xb + c);
        acc = select(acc, v, v > acc || is_nan(v));
    }
    ${treeReduce(wg, 'max')}
    acc = 0.0;
    for (var c = lid; c < cols; c += ${wg}u) { acc += exp(x_at(xb + c) - max_all); }
    ${treeReduce(wg, 'sum')}
    ${log ? 'let shift = max_all + log(sum_all);' : 'let inv = 1.0 / sum_all;'}
    for (var c = lid; c < cols; c += ${wg}u) {
        ${log ? 'out_set(ob + c, x_at(xb + c) - shift);' : 'out_set(ob + c, exp(x_at(xb + c) - max_all) * inv);'}
    }
}
`;
}
