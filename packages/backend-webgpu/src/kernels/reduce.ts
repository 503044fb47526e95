/**
 * Backend.reduce: sum / max / min over any set of axes. The view is split into kept ("outer") and reduced
 * ("inner") dims, each collapsed on its own, so any axes and any strides reduce without a copy.
 *
 * Two shapes of kernel:
 * - `thread`: one invocation per output, looping over the reduced elements (many outputs, short reductions);
 * - `workgroup`: one workgroup per output; its invocations stride over the reduced elements and combine in
 *   workgroup memory as a tree (few outputs, long reductions: more parallelism and a pairwise-ish sum).
 *
 * float16 / bfloat16 inputs are widened to f32 and accumulated there; the result is rounded once into the input's
 * dtype (as PyTorch's sum of a half tensor).
 */
import { type BackendStorage, type DType, type ReduceOp, type View, splitAxes } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Elem, HELPERS, LINEAR_GROUP, Params, type Scalar, binding, grid, halfFunctions, linearMain, paramBlock, pi, pu, rankZeroWhereScalar, stridedOffsets, valueType, zeroOf } from '../wgsl/common.js';

export function reduce(rt: GpuRuntime, op: ReduceOp, x: View, axes: readonly number[]): BackendStorage {
  const label = `${op} ${x.dtype} ${shapeOf(x)} over axes [${axes.join(', ')}]`;
  return rt.op(label, () => {
    const input = rt.elem(x.dtype, op);
    const outDType: DType = op === 'sum' && (x.dtype === 'int32' || x.dtype === 'bool') ? 'int32' : x.dtype;
    const outType = rt.elem(outDType, op);
    const split = splitAxes(x.shape, x.strides, axes);
    const nOut = split.keptSize;
    const R = split.reducedSize;
    const out = rt.make(outDType, nOut, op);
    if (nOut === 0) return out;
    const outer = rankZeroWhereScalar(split.kept);
    const inner = rankZeroWhereScalar(split.reduced);
    const mode = R >= 256 && nOut <= 16384 ? 'workgroup' : 'thread';
    const source = reduceSource({ op, input, out: outType, outerRank: outer.shape.length, innerRank: inner.shape.length, mode, workgroup: rt.wg });
    const p = new Params().u32(nOut).u32(R);
    for (const d of outer.shape) p.u32(d);
    for (const d of inner.shape) p.u32(d);
    p.i32(x.offset);
    for (const s of outer.strides[0]) p.i32(s);
    for (const s of inner.strides[0]) p.i32(s);
    const groups = grid(mode === 'workgroup' ? nOut : Math.ceil(nOut / rt.wg), rt.limits.maxComputeWorkgroupsPerDimension);
    rt.launch(label, source, p, [out.buffer, rt.buf(x.storage, op)], groups);
    return out;
  });
}

interface ReduceSpec {
  op: ReduceOp;
  input: Elem;
  out: Elem;
  outerRank: number;
  innerRank: number;
  mode: 'thread' | 'workgroup';
  workgroup: number;
}

/** Words: nOut, R, outerShape[ro], innerShape[ri], x offset, outerStrides[ro], innerStrides[ri]. */
function reduceParamWords(outerRank: number, innerRank: number): number {
  return 3 + 2 * (outerRank + innerRank);
}

function init(op: ReduceOp, t: Scalar): string {
  if (op === 'sum') return zeroOf(t);
  const max = op === 'max';
  if (t === 'f32') return max ? 'neg_inf()' : 'pos_inf()';
  if (t === 'i32') return max ? 'i32(-2147483647 - 1)' : '2147483647';
  return max ? '0u' : '1u';
}

/** acc ⊕ v, NaN-propagating for float max/min. */
function combine(op: ReduceOp, t: Scalar, acc: string, v: string): string {
  if (op === 'sum') return `${acc} + ${v}`;
  if (t === 'f32') return `select(${acc}, ${v}, ${v} ${op === 'max' ? '>' : '<'} ${acc} || is_nan(${v}))`;
  return `${op}(${acc}, ${v})`;
}

function reduceSource(s: ReduceSpec): string {
  const { outerRank: ro, innerRank: ri, workgroup: wg } = s;
  const words = reduceParamWords(ro, ri);
  const shapeOuter = 2;
  const shapeInner = 2 + ro;
  const xOff = 2 + ro + ri;
  // Strided offsets read "offset word, then strides": outer strides follow x's offset word; inner strides
  // follow the last outer stride, so the inner decomposition starts from a zero offset at word xOff + ro.
  const outer = stridedOffsets('o', ro, shapeOuter, [{ name: 'base', at: xOff }]);
  const inner = stridedOffsets('r', ri, shapeInner, [{ name: 'inner', at: xOff + ro }]).replace(`var inner = ${pi(xOff + ro)};`, 'var inner = 0;');
  // The accumulator's type: f32 for the half formats.
  const acc = valueType(s.out);
  const load = valueType(s.input) === acc ? 'x_at(u32(base + inner))' : `${acc}(x_at(u32(base + inner)))`;
  const header = `${paramBlock(words)}
${binding(1, 'out', s.out, true)}
${binding(2, 'x', s.input, false)}
${HELPERS}
${halfFunctions(s.input, s.out)}`;
  const loopBody = (accName: string) => `{
            ${inner}
            let v = ${load};
            ${accName} = ${combine(s.op, acc, accName, 'v')};
        }`;
  if (s.mode === 'thread') {
    return `${header}
${linearMain(wg, 'o')}
    if (o >= ${pu(0)}) { return; }
    ${outer}
    var acc: ${acc} = ${init(s.op, acc)};
    for (var r = 0u; r < ${pu(1)}; r++) ${loopBody('acc')}
    out_set(o, acc);
}
`;
  }
  return `${header}
var<workgroup> part: array<${acc}, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let o = group;
    if (o >= ${pu(0)}) { return; }
    ${outer}
    var acc: ${acc} = ${init(s.op, acc)};
    for (var r = lid; r < ${pu(1)}; r += ${wg}u) ${loopBody('acc')}
    part[lid] = acc;
    workgroupBarrier();
    for (var step = ${wg / 2}u; step > 0u; step = step >> 1u) {
        if (lid < step) { part[lid] = ${combine(s.op, acc, 'part[lid]', 'part[lid + step]')}; }
        workgroupBarrier();
    }
    if (lid == 0u) { out_set(o, part[0]); }
}
`;
}
