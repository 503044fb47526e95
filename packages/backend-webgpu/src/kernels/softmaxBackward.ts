/**
 * Backend.softmaxBackward, one workgroup per row as softmax.ts: softmax dx = y ⊙ (dy − Σ dy⊙y); log-softmax
 * dx = dy − exp(y) · Σ dy.
 */
import { type BackendStorage, DTypeError, type View, sizeOf } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { HELPERS, Params, grid, paramBlock, pu, storage } from '../wgsl/common.js';
import { rowMain, rowsWorkgroup } from './shared/rows.js';
import { treeReduce } from './softmax.js';

export function softmaxBackward(rt: GpuRuntime, y: View, dy: View, cols: number, log: boolean): BackendStorage {
  const label = `${log ? 'logSoftmax' : 'softmax'} backward ${y.dtype} ${shapeOf(y)} rows of ${cols}`;
  return rt.op(label, () => {
    if (y.dtype !== 'float32' || dy.dtype !== 'float32') throw new DTypeError(`webgpu ${label}: float32 only`);
    const n = sizeOf(y.shape);
    const out = rt.make('float32', n, 'softmaxBackward');
    if (n === 0 || cols === 0) return out;
    const rows = n / cols;
    const wg = rowsWorkgroup(rt, cols);
    const p = new Params().u32(rows).u32(cols).u32(y.offset).u32(dy.offset);
    const bufs = [out.buffer, rt.buf(y.storage, label), rt.buf(dy.storage, label)];
    rt.launch(label, softmaxBackwardSource(wg, log), p, bufs, grid(rows, rt.limits.maxComputeWorkgroupsPerDimension));
    return out;
  });
}

/** Words: rows, cols, y offset, dy offset. */
function softmaxBackwardSource(wg: number, log: boolean): string {
  return `${paramBlock(4)}
${storage(1, 'out', 'f32', true)}
${storage(2, 'y', 'f32', false)}
${storage(3, 'dy', 'f32', false)}
${HELPERS}
var<workgroup> part: array<f32, ${wg}>;
${rowMain(wg)}
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
