/**
 * Backend.argReduce: the index of the first max / min along one axis; one invocation per output walks the axis
 * over its stride. NaN wins (the CPU's order). float16 / bfloat16 are compared as their widened f32 values (exact).
 */
import { type BackendStorage, ShapeError, type View, splitAxes } from '@siftjs/tensor';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Elem, HELPERS, Params, binding, grid, halfFunctions, linearMain, paramBlock, pi, pu, rankZeroWhereScalar, storage, stridedOffsets, valueType } from '../wgsl/common.js';

export function argReduce(rt: GpuRuntime, op: 'argmax' | 'argmin', x: View, axis: number): BackendStorage {
  const label = `${op} ${x.dtype} ${shapeOf(x)} along axis ${axis}`;
  return rt.op(label, () => {
    const input = rt.elem(x.dtype, op);
    const R = x.shape[axis];
    if (!(R > 0)) throw new ShapeError(`webgpu ${op}: axis ${axis} of ${shapeOf(x)} is empty`);
    const { kept, keptSize: nOut } = splitAxes(x.shape, x.strides, [axis]);
    const out = rt.make('int32', nOut, op);
    if (nOut === 0) return out;
    const outer = rankZeroWhereScalar(kept);
    const source = argReduceSource({ op, input, outerRank: outer.shape.length, workgroup: rt.wg });
    const p = new Params().u32(nOut).u32(R);
    for (const d of outer.shape) p.u32(d);
    p.i32(x.offset);
    for (const s of outer.strides[0]) p.i32(s);
    p.i32(x.strides[axis]);
    rt.launch(label, source, p, [out.buffer, rt.buf(x.storage, op)], grid(Math.ceil(nOut / rt.wg), rt.limits.maxComputeWorkgroupsPerDimension));
    return out;
  });
}

interface ArgReduceSpec {
  op: 'argmax' | 'argmin';
  input: Elem;
  outerRank: number;
  workgroup: number;
}

/** Words: nOut, R, outerShape[ro], x offset, outerStrides[ro], axis stride. First index wins ties; NaN wins. */
function argReduceParamWords(outerRank: number): number {
  return 4 + 2 * outerRank;
}

function argReduceSource(s: ArgReduceSpec): string {
  const ro = s.outerRank;
  const words = argReduceParamWords(ro);
  const outer = stridedOffsets('o', ro, 2, [{ name: 'base', at: 2 + ro }]);
  const better = s.op === 'argmax' ? '>' : '<';
  const float = valueType(s.input) === 'f32';
  const nanCheck = float ? 'is_nan(v) || ' : '';
  const bestNan = float ? 'if (is_nan(best)) { break; }' : '';
  return `${paramBlock(words)}
${storage(1, 'out', 'i32', true)}
${binding(2, 'x', s.input, false)}
${HELPERS}
${halfFunctions(s.input)}
${linearMain(s.workgroup, 'o')}
    if (o >= ${pu(0)}) { return; }
    ${outer}
    let stride = ${pi(3 + 2 * ro)};
    var best = x_at(u32(base));
    var at = 0u;
    for (var r = 1u; r < ${pu(1)}; r++) {
        ${bestNan}
        let v = x_at(u32(base + i32(r) * stride));
        if (${nanCheck}v ${better} best) { best = v; at = r; }
    }
    out[o] = i32(at);
}
`;
}
