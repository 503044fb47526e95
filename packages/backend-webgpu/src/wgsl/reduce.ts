/**
 * Reductions (sum / max / min over any set of axes) and arg-reductions. The view is split into kept ("outer")
 * and reduced ("inner") dims, each collapsed on its own, so any axes and any strides reduce without a copy.
 *
 * Two shapes of kernel:
 * - `thread`: one invocation per output, looping over the reduced elements (many outputs, short reductions);
 * - `workgroup`: one workgroup per output; its invocations stride over the reduced elements and combine in
 *   workgroup memory as a tree (few outputs, long reductions: more parallelism and a pairwise-ish sum).
 */
import type { ReduceOp } from '@siftjs/tensor';
import { HELPERS, LINEAR_GROUP, type Scalar, paramBlock, pi, pu, storage, stridedOffsets } from './common.js';

export interface ReduceSpec {
  op: ReduceOp;
  input: Scalar;
  out: Scalar;
  outerRank: number;
  innerRank: number;
  mode: 'thread' | 'workgroup';
  workgroup: number;
}

/** Words: nOut, R, outerShape[ro], innerShape[ri], x offset, outerStrides[ro], innerStrides[ri]. */
export function reduceParamWords(outerRank: number, innerRank: number): number {
  return 3 + 2 * (outerRank + innerRank);
}

function init(op: ReduceOp, t: Scalar): string {
  if (op === 'sum') return t === 'f32' ? '0.0' : t === 'i32' ? '0' : '0u';
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

export function reduceSource(s: ReduceSpec): string {
  const { outerRank: ro, innerRank: ri, workgroup: wg } = s;
  const words = reduceParamWords(ro, ri);
  const shapeOuter = 2;
  const shapeInner = 2 + ro;
  const xOff = 2 + ro + ri;
  // Strided offsets read "offset word, then strides": outer strides follow x's offset word; inner strides
  // follow the last outer stride, so the inner decomposition starts from a zero offset at word xOff + ro.
  const outer = stridedOffsets('o', ro, shapeOuter, [{ name: 'base', at: xOff }]);
  const inner = stridedOffsets('r', ri, shapeInner, [{ name: 'inner', at: xOff + ro }]).replace(`var inner = ${pi(xOff + ro)};`, 'var inner = 0;');
  const load = s.input === s.out ? 'x[base + inner]' : `${s.out}(x[base + inner])`;
  const header = `${paramBlock(words)}
${storage(1, 'out', s.out, true)}
${storage(2, 'x', s.input, false)}
${HELPERS}`;
  const loopBody = (acc: string) => `{
            ${inner}
            let v = ${load};
            ${acc} = ${combine(s.op, s.out, acc, 'v')};
        }`;
  if (s.mode === 'thread') {
    return `${header}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let o = group * ${wg}u + lid;
    if (o >= ${pu(0)}) { return; }
    ${outer}
    var acc: ${s.out} = ${init(s.op, s.out)};
    for (var r = 0u; r < ${pu(1)}; r++) ${loopBody('acc')}
    out[o] = acc;
}
`;
  }
  return `${header}
var<workgroup> part: array<${s.out}, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let o = group;
    if (o >= ${pu(0)}) { return; }
    ${outer}
    var acc: ${s.out} = ${init(s.op, s.out)};
    for (var r = lid; r < ${pu(1)}; r += ${wg}u) ${loopBody('acc')}
    part[lid] = acc;
    workgroupBarrier();
    for (var step = ${wg / 2}u; step > 0u; step = step >> 1u) {
        if (lid < step) { part[lid] = ${combine(s.op, s.out, 'part[lid]', 'part[lid + step]')}; }
        workgroupBarrier();
    }
    if (lid == 0u) { out[o] = part[0]; }
}
`;
}

export interface ArgSpec {
  op: 'argmax' | 'argmin';
  input: Scalar;
  outerRank: number;
  workgroup: number;
}

/** Words: nOut, R, outerShape[ro], x offset, outerStrides[ro], axis stride. First index wins ties; NaN wins. */
export function argParamWords(outerRank: number): number {
  return 4 + 2 * outerRank;
}

export function argSource(s: ArgSpec): string {
  const ro = s.outerRank;
  const words = argParamWords(ro);
  const outer = stridedOffsets('o', ro, 2, [{ name: 'base', at: 2 + ro }]);
  const better = s.op === 'argmax' ? '>' : '<';
  const nanCheck = s.input === 'f32' ? 'is_nan(v) || ' : '';
  const bestNan = s.input === 'f32' ? 'if (is_nan(best)) { break; }' : '';
  return `${paramBlock(words)}
${storage(1, 'out', 'i32', true)}
${storage(2, 'x', s.input, false)}
${HELPERS}
@compute @workgroup_size(${s.workgroup})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let o = group * ${s.workgroup}u + lid;
    if (o >= ${pu(0)}) { return; }
    ${outer}
    let stride = ${pi(3 + 2 * ro)};
    var best = x[base];
    var at = 0u;
    for (var r = 1u; r < ${pu(1)}; r++) {
        ${bestNan}
        let v = x[base + i32(r) * stride];
        if (${nanCheck}v ${better} best) { best = v; at = r; }
    }
    out[o] = i32(at);
}
`;
}
