/**
 * Backend.layerNorm over rows of a contiguous [rows, cols] input, in f32 (the CPU sums in float64; the tests
 * bound the difference); with `centred` false the same kernel is rmsNorm (rmsNorm.ts). One workgroup per row,
 * two passes as the CPU: μ = mean(x) (0 for RMS), rstd = 1/√(mean((x−μ)²) + eps), y = (x − μ)·rstd·w + b.
 * A float16 / bfloat16 x is read in its format and y written in it; mean and rstd are f32 whatever x's dtype — the
 * contract's `opmathDtype` (float32 for a half x), which the backward takes back — and half weights and biases pass
 * through f32 copies (shared/norm.ts).
 */
import type { NormForward, View } from '@siftjs/tensor';
import type { GpuStorage } from '../memory/storage.js';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Elem, Params, binding, halfFunctions, grid, paramBlock, pf, pu } from '../wgsl/common.js';
import { type NormSpec, bindVectors, f32Vector, normBindings, normRows, rowReduce, vectors } from './shared/norm.js';
import { rowMain, rowsWorkgroup } from './shared/rows.js';

export function layerNorm(rt: GpuRuntime, x: View, weight: View | null, bias: View | null, cols: number, eps: number, centred = true): NormForward {
  const op = centred ? 'layerNorm' : 'rmsNorm';
  const label = `${op} ${x.dtype} ${shapeOf(x)} rows of ${cols}${weight ? `, weight ${shapeOf(weight)}` : ''}${bias ? `, bias ${shapeOf(bias)}` : ''}`;
  return rt.op(label, () => {
    const rows = normRows(label, x, cols, [weight, bias]);
    const n = rows * cols;
    const elem = rt.elem(x.dtype, label);
    const y = rt.make(x.dtype, n, op);
    // f32 is opmathDtype of every dtype this backend has (float32 and the halves): the statistics are returned as made.
    const rstd = rt.make('float32', rows, op);
    const mean = centred ? rt.make('float32', rows, op) : undefined;
    if (n === 0) return { y, rstd, mean };
    const packed = rt.tooMany(normBindings('forward', centred, !!weight, !!bias));
    const temps: GpuStorage[] = [];
    const ins = [weight, bias].filter((v): v is View => v !== null).map((v) => f32Vector(rt, v, cols, label, temps));
    const vin = bindVectors(rt, op, ins, packed, temps);
    const stats = packed ? rt.make('float32', (centred ? 2 : 1) * rows, op) : null;
    if (stats) temps.push(stats);
    const outs = stats ? [stats.buffer] : [...(mean ? [mean.buffer] : []), rstd.buffer];
    const p = new Params().u32(rows).u32(cols).u32(x.offset).f32(eps);
    p.u32(weight ? vin.offsets[0] : 0).u32(bias ? vin.offsets[weight ? 1 : 0] : 0);
    p.u32(0).u32(stats && centred ? rows : 0);
    const source = layerNormSource({ wg: rowsWorkgroup(rt, cols), centred, weight: !!weight, bias: !!bias, packed }, elem);
    rt.launch(label, source, p, [y.buffer, rt.buf(x.storage, label), ...vin.buffers, ...outs], grid(rows, rt.limits.maxComputeWorkgroupsPerDimension));
    if (stats) {
      if (mean) rt.encoder.copy(stats.buffer, 0, mean.buffer, 0, rows * 4);
      rt.encoder.copy(stats.buffer, centred ? rows * 4 : 0, rstd.buffer, 0, rows * 4);
    }
    for (const t of temps) rt.free(t);
    return { y, rstd, mean };
  });
}

/** Words: rows, cols, x offset, eps, w offset, b offset, mean offset, rstd offset. */
const LAYER_NORM_WORDS = 8;

function layerNormSource(s: NormSpec, elem: Elem): string {
  const ins = [...(s.weight ? ['w'] : []), ...(s.bias ? ['b'] : [])];
  const outs = [...(s.centred ? ['mean'] : []), 'rstd'];
  const vin = vectors(ins, 3, s.packed, false, (k) => 4 + (ins[k] === 'b' ? 1 : 0));
  const vout = vectors(outs, 3 + vin.bindings, s.packed, true, (k) => (outs[k] === 'mean' ? 6 : 7));
  let y = 'd * rs';
  if (s.weight) y = `${y} * w_at(c)`;
  if (s.bias) y = `${y} + b_at(c)`;
  return `${paramBlock(LAYER_NORM_WORDS)}
${binding(1, 'y', elem, true)}
${binding(2, 'x', elem, false)}
${halfFunctions(elem)}
${vin.decls}
${vout.decls}
var<workgroup> part: array<f32, ${s.wg}>;
${rowMain(s.wg)}
    let xb = ${pu(2)} + row * cols;
    let yb = row * cols;
    var mu = 0.0;
    ${
      s.centred
        ? `var acc = 0.0;
    for (var c = lid; c < cols; c += ${s.wg}u) { acc += x_at(xb + c); }
    part[lid] = acc;
    ${rowReduce(s.wg, ['part'])}
    mu = part[0] / f32(cols);
    workgroupBarrier();`
        : ''
    }
    var ss = 0.0;
    for (var c = lid; c < cols; c += ${s.wg}u) { let d = x_at(xb + c) - mu; ss += d * d; }
    part[lid] = ss;
    ${rowReduce(s.wg, ['part'])}
    let rs = inverseSqrt(part[0] / f32(cols) + ${pf(3)});
    if (lid == 0u) {
        ${s.centred ? 'set_mean(row, mu);' : ''}
        set_rstd(row, rs);
    }
    for (var c = lid; c < cols; c += ${s.wg}u) {
        let d = x_at(xb + c) - mu;
        y_set(yb + c, ${y});
    }
}
`;
}
