/**
 * Backend.layerNormBackward (rmsNormBackward with `centred` false, rmsNormBackward.ts). With x̂ = (x − μ)·rstd and
 * g = dy·w, one workgroup per row gives
 *   layer: dx = rstd·(g − mean(g) − x̂·mean(g·x̂));   RMS: dx = rstd·(g − x̂·mean(g·x̂)),
 * and a second kernel sums the parameter gradients down the columns: dw = Σ_rows dy·x̂, db = Σ_rows dy — each
 * workgroup takes a strip of adjacent columns (coalesced loads) and splits the rows among lanes, combined as a
 * tree in a fixed order (deterministic).
 *
 * float16 / bfloat16: x and dy are read in their format and dx written in x's; the statistics are the forward's f32
 * ones (the contract's `opmathDtype`), bound as they are; a half weight is widened into an f32 copy, and dweight /
 * dbias are summed in f32 and rounded into x's dtype (shared/norm.ts).
 */
import { type BackendStorage, type NormBackward, type NormGradients, type NormStats, ShapeError, type View } from '@siftjs/tensor';
import type { GpuStorage } from '../memory/storage.js';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Elem, LINEAR_GROUP, Params, binding, grid, halfFunctions, paramBlock, pu } from '../wgsl/common.js';
import { type NormSpec, bindVectors, f32Vector, narrowed, normBindings, normRows, rowReduce, vectors } from './shared/norm.js';
import { rowMain, rowsWorkgroup } from './shared/rows.js';

export function layerNormBackward(
  rt: GpuRuntime,
  dy: View,
  x: View,
  weight: View | null,
  stats: NormStats,
  cols: number,
  wanted: NormGradients,
  centred = true,
): NormBackward {
  const op = centred ? 'layerNormBackward' : 'rmsNormBackward';
  const label = `${op} ${x.dtype} ${shapeOf(x)} rows of ${cols}${weight ? `, weight ${shapeOf(weight)}` : ''}`;
  return rt.op(label, () => {
    const rows = normRows(label, x, cols, [weight], [dy]);
    const n = rows * cols;
    const [xe, dye] = [rt.elem(x.dtype, label), rt.elem(dy.dtype, label)];
    // Only the gradients asked for: a frozen weight's or bias's is neither allocated nor summed.
    const dx = wanted.input ? rt.make(x.dtype, n, op) : null;
    const dweight = weight && wanted.weight ? rt.zeros('float32', cols, op) : null;
    const dbias = centred && wanted.bias ? rt.zeros('float32', cols, op) : null;
    const narrowParams = () => ({ dx, dweight: dweight && narrowed(rt, dweight, x.dtype, cols), dbias: dbias && narrowed(rt, dbias, x.dtype, cols) });
    if (n === 0) return narrowParams();
    if (centred && !stats.mean) throw new ShapeError(`webgpu ${label}: layer norm statistics without the mean`);
    const temps: GpuStorage[] = [];
    // The statistics are f32 for every x this backend takes (opmathDtype: what layerNorm returned).
    const stat = (s: BackendStorage) => f32Vector(rt, { storage: s, dtype: 'float32', shape: [rows], strides: [1], offset: 0 }, rows, label, temps);
    const meanV = centred ? [stat(stats.mean!)] : [];
    const rstdV = stat(stats.rstd);
    const has = { wg: rowsWorkgroup(rt, cols), centred, weight: !!weight, bias: false };
    const [xb, dyb] = [rt.buf(x.storage, label), rt.buf(dy.storage, label)];

    // dx: one workgroup per row.
    if (dx) {
      const dxPacked = rt.tooMany(normBindings('dx', centred, !!weight, false));
      const wV = weight ? [f32Vector(rt, weight, cols, label, temps)] : [];
      const vin = bindVectors(rt, op, [...wV, ...meanV, rstdV], dxPacked, temps);
      const at = (k: number) => vin.offsets[k];
      const p = new Params().u32(rows).u32(cols).u32(x.offset).u32(dy.offset);
      p.u32(weight ? at(0) : 0).u32(centred ? at(wV.length) : 0).u32(at(wV.length + meanV.length));
      rt.launch(label, layerNormDxSource({ ...has, packed: dxPacked }, xe, dye), p, [dx.buffer, xb, dyb, ...vin.buffers], grid(rows, rt.limits.maxComputeWorkgroupsPerDimension));
    }

    // dweight, dbias: column strips summed down the rows (the spec's weight / bias: which of them are written).
    if (dweight || dbias) {
      const outsWanted = { weight: dweight !== null, bias: dbias !== null };
      const packed = rt.tooMany(normBindings('params', centred, outsWanted.weight, outsWanted.bias));
      const outs = [dweight, dbias].filter((s): s is GpuStorage => s !== null);
      const sums = packed ? rt.make('float32', outs.length * cols, op) : null;
      if (sums) temps.push(sums);
      const sin = bindVectors(rt, op, [...meanV, rstdV], packed, temps);
      const q = new Params().u32(rows).u32(cols).u32(x.offset).u32(dy.offset);
      q.u32(centred ? sin.offsets[0] : 0).u32(sin.offsets[meanV.length]);
      q.u32(0).u32(sums && dweight ? cols : 0);
      const wg = rt.wg;
      const bufs = [...(sums ? [sums.buffer] : outs.map((s) => s.buffer)), xb, dyb, ...sin.buffers];
      rt.launch(label, layerNormParamsSource({ ...has, ...outsWanted, wg, packed }, xe, dye), q, bufs, grid(Math.ceil(cols / paramStrip(wg)), rt.limits.maxComputeWorkgroupsPerDimension));
      if (sums) outs.forEach((s, k) => rt.encoder.copy(sums.buffer, k * cols * 4, s.buffer, 0, cols * 4));
    }
    for (const t of temps) rt.free(t);
    return narrowParams();
  });
}

/** Words: rows, cols, x offset, dy offset, w offset, mean offset, rstd offset. */
const LAYER_NORM_DX_WORDS = 7;

function layerNormDxSource(s: NormSpec, xe: Elem, dye: Elem): string {
  const ins = [...(s.weight ? ['w'] : []), ...(s.centred ? ['mean'] : []), 'rstd'];
  const word: Record<string, number> = { w: 4, mean: 5, rstd: 6 };
  const vin = vectors(ins, 4, s.packed, false, (k) => word[ins[k]]);
  const g = s.weight ? 'dy_at(dyb + c) * w_at(c)' : 'dy_at(dyb + c)';
  return `${paramBlock(LAYER_NORM_DX_WORDS)}
${binding(1, 'dx', xe, true)}
${binding(2, 'x', xe, false)}
${binding(3, 'dy', dye, false)}
${halfFunctions(xe, dye)}
${vin.decls}
var<workgroup> pg: array<f32, ${s.wg}>;
var<workgroup> pgx: array<f32, ${s.wg}>;
${rowMain(s.wg)}
    let xb = ${pu(2)} + row * cols;
    let dyb = ${pu(3)} + row * cols;
    let mu = ${s.centred ? 'mean_at(row)' : '0.0'};
    let rs = rstd_at(row);
    var sg = 0.0;
    var sgx = 0.0;
    for (var c = lid; c < cols; c += ${s.wg}u) {
        let g = ${g};
        sg += g;
        sgx += g * (x_at(xb + c) - mu) * rs;
    }
    pg[lid] = sg;
    pgx[lid] = sgx;
    ${rowReduce(s.wg, ['pg', 'pgx'])}
    let mg = ${s.centred ? 'pg[0] / f32(cols)' : '0.0'};
    let mgx = pgx[0] / f32(cols);
    for (var c = lid; c < cols; c += ${s.wg}u) {
        let xh = (x_at(xb + c) - mu) * rs;
        dx_set(row * cols + c, rs * (${g} - mg - xh * mgx));
    }
}
`;
}

/** Words: rows, cols, x offset, dy offset, mean offset, rstd offset, dw offset, db offset. */
const LAYER_NORM_PARAMS_WORDS = 8;

/** Column strips of `cw` columns per workgroup, `wg / cw` lanes down the rows. */
function paramStrip(wg: number): number {
  return Math.min(32, wg);
}

/** `s.weight` and `s.bias` say which of dw and db are written; `s.centred` subtracts the row mean. */
function layerNormParamsSource(s: NormSpec, xe: Elem, dye: Elem): string {
  const ins = [...(s.centred ? ['mean'] : []), 'rstd'];
  const outs = [...(s.weight ? ['dw'] : []), ...(s.bias ? ['db'] : [])];
  const vout = vectors(outs, 1, s.packed, true, (k) => (outs[k] === 'dw' ? 6 : 7));
  const vin = vectors(ins, 1 + vout.bindings + 2, s.packed, false, (k) => (ins[k] === 'mean' ? 4 : 5));
  const cw = paramStrip(s.wg);
  const lanes = s.wg / cw;
  const parts = [...(s.weight ? ['pw'] : []), ...(s.bias ? ['pb'] : [])];
  return `${paramBlock(LAYER_NORM_PARAMS_WORDS)}
${vout.decls}
${binding(1 + vout.bindings, 'x', xe, false)}
${binding(2 + vout.bindings, 'dy', dye, false)}
${halfFunctions(xe, dye)}
${vin.decls}
${parts.map((p) => `var<workgroup> ${p}: array<f32, ${s.wg}>;`).join('\n')}
@compute @workgroup_size(${s.wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let rows = ${pu(0)};
    let cols = ${pu(1)};
    let col = group * ${cw}u + lid % ${cw}u;
    let lane = lid / ${cw}u;
    var sw = 0.0;
    var sb = 0.0;
    if (col < cols) {
        for (var r = lane; r < rows; r += ${lanes}u) {
            let d = dy_at(${pu(3)} + r * cols + col);
            sw += d * (x_at(${pu(2)} + r * cols + col) - ${s.centred ? 'mean_at(r)' : '0.0'}) * rstd_at(r);
            sb += d;
        }
    }
    ${s.weight ? 'pw[lid] = sw;' : ''}
    ${s.bias ? 'pb[lid] = sb;' : ''}
    workgroupBarrier();
    for (var step = ${lanes / 2}u; step > 0u; step = step >> 1u) {
        if (lane < step) { ${parts.map((p) => `${p}[lid] += ${p}[lid + step * ${cw}u];`).join(' ')} }
        workgroupBarrier();
    }
    if (lane == 0u && col < cols) {
        ${s.weight ? 'set_dw(col, pw[lid]);' : ''}
        ${s.bias ? 'set_db(col, pb[lid]);' : ''}
    }
}
`;
}
