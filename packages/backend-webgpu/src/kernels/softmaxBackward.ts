/**
 * Backend.softmaxBackward, one workgroup per row as softmax.ts: softmax dx = y ⊙ (dy − Σ dy⊙y); log-softmax
 * dx = dy − exp(y) · Σ dy. float16 / bfloat16 operands are computed in f32; dx is rounded once into y's dtype.
 */
import { type BackendStorage, DTypeError, type View, isFloat, sizeOf } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Elem, HELPERS, Params, binding, grid, halfFunctions, paramBlock, pu } from '../wgsl/common.js';
import { rowMain, rowsWorkgroup } from './shared/rows.js';
import { treeReduce } from './softmax.js';

export function softmaxBackward(rt: GpuRuntime, y: View, dy: View, cols: number, log: boolean): BackendStorage {
  const label = `${log ? 'logSoftmax' : 'softmax'} backward ${y.dtype} ${shapeOf(y)} rows of ${cols}`;
  return rt.op(label, () => {
    if (!isFloat(y.dtype) || !isFloat(dy.dtype)) throw new DTypeError(`webgpu ${label}: float dtypes only, got ${y.dtype} and ${dy.dtype}`);
    const [ye, dye] = [rt.elem(y.dtype, label), rt.elem(dy.dtype, label)];
    const n = sizeOf(y.shape);
    const out = rt.make(y.dtype, n, 'softmaxBackward');
    if (n === 0 || cols === 0) return out;
    const rows = n / cols;
    const wg = rowsWorkgroup(rt, cols);
    const p = new Params().u32(rows).u32(cols).u32(y.offset).u32(dy.offset);
    const bufs = [out.buffer, rt.buf(y.storage, label), rt.buf(dy.storage, label)];
    rt.launch(label, softmaxBackwardSource(wg, log, ye, dye), p, bufs, grid(rows, rt.limits.maxComputeWorkgroupsPerDimension));
    return out;
  });
}

/** Words: rows, cols, y offset, dy offset. */
function softmaxBackwardSource(wg: number, log: boolean, ye: Elem, dye: Elem): string {
  return `${paramBlock(4)}
${binding(1, 'out', ye, true)}
${binding(2, 'y', ye, false)}
${binding(3, 'dy', dye, false)}
${HELPERS}
${halfFunctions(ye, dye)}
var<workgroup> part: array<f32, ${wg}>;
${rowMain(wg)}
    let yb = ${pu(2)} + row * cols;
    let db = ${pu(3)} + row * cols;
    let ob = row * cols;
    var acc = 0.0;
    for (var c = lid; c < cols; c += ${wg}u) { acc += ${log ? 'dy_at(db + c)' : 'dy_at(db + c) * y_at(yb + c)'}; }
    ${treeReduce(wg, 'sum')}
    for (var c = lid; c < cols; c += ${wg}u) {
        ${log ? 'out_set(ob + c, dy_at(db + c) - exp(y_at(yb + c)) * sum_all);' : 'out_set(ob + c, y_at(yb + c) * (dy_at(db + c) - sum_all));'}
    }
}
`;
}
