/**
 * Softmax / log-softmax over rows (the last dim(s) of a contiguous input), forward and backward. One workgroup
 * per row: its invocations stride over the columns and combine partial results in workgroup memory.
 *
 * Forward: m = max(x); s = Σ exp(x − m); y = exp(x − m) / s, or for log-softmax y = x − m − log(s).
 * Backward: softmax dx = y ⊙ (dy − Σ dy⊙y); log-softmax dx = dy − exp(y) · Σ dy.
 */
import { HELPERS, LINEAR_GROUP, paramBlock, pu, storage } from './common.js';

/** Words: rows, cols, x offset (and dy offset for backward). */
export const SOFTMAX_WORDS = 4;

function treeReduce(wg: number, op: 'max' | 'sum'): string {
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

export function softmaxSource(wg: number, log: boolean): string {
  return `${paramBlock(SOFTMAX_WORDS)}
${storage(1, 'out', 'f32', true)}
${storage(2, 'x', 'f32', false)}
${HELPERS}
var<workgroup> part: array<f32, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let row = group;
    if (row >= ${pu(0)}) { return; }
    let cols = ${pu(1)};
    let xb = ${pu(2)} + row * cols;
    let ob = row * cols;
    var acc = neg_inf();
    for (var c = lid; c < cols; c += ${wg}u) {
        let v = x[xb + c];
        acc = select(acc, v, v > acc || is_nan(v));
    }
    ${treeReduce(wg, 'max')}
    acc = 0.0;
    for (var c = lid; c < cols; c += ${wg}u) { acc += exp(x[xb + c] - max_all); }
    ${treeReduce(wg, 'sum')}
    ${log ? 'let shift = max_all + log(sum_all);' : 'let inv = 1.0 / sum_all;'}
    for (var c = lid; c < cols; c += ${wg}u) {
        ${log ? 'out[ob + c] = x[xb + c] - shift;' : 'out[ob + c] = exp(x[xb + c] - max_all) * inv;'}
    }
}
`;
}

export function softmaxBackwardSource(wg: number, log: boolean): string {
  return `${paramBlock(SOFTMAX_WORDS)}
${storage(1, 'out', 'f32', true)}
${storage(2, 'y', 'f32', false)}
${storage(3, 'dy', 'f32', false)}
${HELPERS}
var<workgroup> part: array<f32, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let row = group;
    if (row >= ${pu(0)}) { return; }
    let cols = ${pu(1)};
    let yb = ${pu(2)} + row * cols;
    let db = ${pu(3)} + row * cols;
    let ob = row * cols;
    var acc = 0.0;
    for (var c = lid; c < cols; c += ${wg}u) { acc += ${log ? 'dy[db + c]' : 'dy[db + c] * y[yb + c]'}; }
    ${treeReduce(wg, 'sum')}
    for (var c = lid; c < cols; c += ${wg}u) {
        ${log ? 'out[ob + c] = dy[db + c] - exp(y[yb + c]) * sum_all;' : 'out[ob + c] = y[yb + c] * (dy[db + c] - sum_all);'}
    }
}
`;
}
