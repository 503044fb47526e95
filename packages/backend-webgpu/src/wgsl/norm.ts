/**
 * Layer norm and RMS norm over rows of a contiguous [rows, cols] input, forward and backward, in f32 (the CPU
 * sums in float64; the tests bound the difference).
 *
 * Forward, one workgroup per row (two passes, as the CPU): μ = mean(x) (0 for RMS), rstd = 1/√(mean((x−μ)²) + eps),
 * y = (x − μ)·rstd·w + b.
 * Backward: with x̂ = (x − μ)·rstd and g = dy·w, one workgroup per row gives
 *   layer: dx = rstd·(g − mean(g) − x̂·mean(g·x̂));   RMS: dx = rstd·(g − x̂·mean(g·x̂)),
 * and a second kernel sums the parameter gradients down the columns: dw = Σ_rows dy·x̂, db = Σ_rows dy — each
 * workgroup takes a strip of adjacent columns (coalesced loads) and splits the rows among lanes, combined as a
 * tree in a fixed order (deterministic).
 *
 * Small vectors (w, b, mean, rstd, dw, db) are separate bindings, unless that is more storage buffers than the
 * device allows: then `packed` reads the inputs from one buffer (the backend copies them in, each at its own
 * offset word) and writes the outputs to one buffer (the backend copies them out). The vectors are per row or
 * per column, so packing copies a sliver of what the kernel reads.
 */
import { LINEAR_GROUP, paramBlock, pf, pu, storage } from './common.js';

/** Accessors for the named f32 vectors, bound from `first` on, or all read from / written to one packed buffer. */
function vectors(names: string[], first: number, packed: boolean, write: boolean, offsetWord: (k: number) => number): { decls: string; bindings: number } {
  if (names.length === 0) return { decls: '', bindings: 0 };
  const lines: string[] = [];
  const buf = (k: number) => (packed ? `${write ? 'outv' : 'inv'}` : `${names[k]}_buf`);
  if (packed) lines.push(storage(first, buf(0), 'f32', write));
  names.forEach((name, k) => {
    if (!packed) lines.push(storage(first + k, buf(k), 'f32', write));
    const at = `${pu(offsetWord(k))} + i`;
    lines.push(write ? `fn set_${name}(i: u32, v: f32) { ${buf(k)}[${at}] = v; }` : `fn ${name}_at(i: u32) -> f32 { return ${buf(k)}[${at}]; }`);
  });
  return { decls: lines.join('\n'), bindings: packed ? 1 : names.length };
}

/** How many storage buffers each norm kernel binds, unpacked. */
export function normBindings(kind: 'forward' | 'dx' | 'params', centred: boolean, weight: boolean, bias: boolean): number {
  if (kind === 'forward') return 2 + (weight ? 1 : 0) + (bias ? 1 : 0) + (centred ? 2 : 1);
  if (kind === 'dx') return 3 + (weight ? 1 : 0) + (centred ? 1 : 0) + 1;
  // params: weight and bias say which of dw and db are written (a frozen one is not).
  return (weight ? 1 : 0) + (bias ? 1 : 0) + 2 + (centred ? 1 : 0) + 1;
}

export interface NormSpec {
  wg: number;
  centred: boolean;
  weight: boolean;
  bias: boolean;
  packed: boolean;
}

function rowReduce(wg: number, arrays: string[]): string {
  return `workgroupBarrier();
    for (var step = ${wg / 2}u; step > 0u; step = step >> 1u) {
        if (lid < step) { ${arrays.map((a) => `${a}[lid] += ${a}[lid + step];`).join(' ')} }
        workgroupBarrier();
    }`;
}

const ROW_HEAD = (wg: number) => `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let row = group;
    if (row >= ${pu(0)}) { return; }
    let cols = ${pu(1)};`;

/** Words: rows, cols, x offset, eps, w offset, b offset, mean offset, rstd offset. */
export const NORM_FORWARD_WORDS = 8;

export function normForwardSource(s: NormSpec): string {
  const ins = [...(s.weight ? ['w'] : []), ...(s.bias ? ['b'] : [])];
  const outs = [...(s.centred ? ['mean'] : []), 'rstd'];
  const vin = vectors(ins, 3, s.packed, false, (k) => 4 + (ins[k] === 'b' ? 1 : 0));
  const vout = vectors(outs, 3 + vin.bindings, s.packed, true, (k) => (outs[k] === 'mean' ? 6 : 7));
  let y = 'd * rs';
  if (s.weight) y = `${y} * w_at(c)`;
  if (s.bias) y = `${y} + b_at(c)`;
  return `${paramBlock(NORM_FORWARD_WORDS)}
${storage(1, 'y', 'f32', true)}
${storage(2, 'x', 'f32', false)}
${vin.decls}
${vout.decls}
var<workgroup> part: array<f32, ${s.wg}>;
${ROW_HEAD(s.wg)}
    let xb = ${pu(2)} + row * cols;
    let yb = row * cols;
    var mu = 0.0;
    ${
      s.centred
        ? `var acc = 0.0;
    for (var c = lid; c < cols; c += ${s.wg}u) { acc += x[xb + c]; }
    part[lid] = acc;
    ${rowReduce(s.wg, ['part'])}
    mu = part[0] / f32(cols);
    workgroupBarrier();`
        : ''
    }
    var ss = 0.0;
    for (var c = lid; c < cols; c += ${s.wg}u) { let d = x[xb + c] - mu; ss += d * d; }
    part[lid] = ss;
    ${rowReduce(s.wg, ['part'])}
    let rs = inverseSqrt(part[0] / f32(cols) + ${pf(3)});
    if (lid == 0u) {
        ${s.centred ? 'set_mean(row, mu);' : ''}
        set_rstd(row, rs);
    }
    for (var c = lid; c < cols; c += ${s.wg}u) {
        let d = x[xb + c] - mu;
        y[yb + c] = ${y};
    }
}
`;
}

/** Words: rows, cols, x offset, dy offset, w offset, mean offset, rstd offset. */
export const NORM_DX_WORDS = 7;

export function normDxSource(s: NormSpec): string {
  const ins = [...(s.weight ? ['w'] : []), ...(s.centred ? ['mean'] : []), 'rstd'];
  const word: Record<string, number> = { w: 4, mean: 5, rstd: 6 };
  const vin = vectors(ins, 4, s.packed, false, (k) => word[ins[k]]);
  const g = s.weight ? 'dy[dyb + c] * w_at(c)' : 'dy[dyb + c]';
  return `${paramBlock(NORM_DX_WORDS)}
${storage(1, 'dx', 'f32', true)}
${storage(2, 'x', 'f32', false)}
${storage(3, 'dy', 'f32', false)}
${vin.decls}
var<workgroup> pg: array<f32, ${s.wg}>;
var<workgroup> pgx: array<f32, ${s.wg}>;
${ROW_HEAD(s.wg)}
    let xb = ${pu(2)} + row * cols;
    let dyb = ${pu(3)} + row * cols;
    let mu = ${s.centred ? 'mean_at(row)' : '0.0'};
    let rs = rstd_at(row);
    var sg = 0.0;
    var sgx = 0.0;
    for (var c = lid; c < cols; c += ${s.wg}u) {
        let g = ${g};
        sg += g;
        sgx += g * (x[xb + c] - mu) * rs;
    }
    pg[lid] = sg;
    pgx[lid] = sgx;
    ${rowReduce(s.wg, ['pg', 'pgx'])}
    let mg = ${s.centred ? 'pg[0] / f32(cols)' : '0.0'};
    let mgx = pgx[0] / f32(cols);
    for (var c = lid; c < cols; c += ${s.wg}u) {
        let xh = (x[xb + c] - mu) * rs;
        dx[row * cols + c] = rs * (${g} - mg - xh * mgx);
    }
}
`;
}

/** Words: rows, cols, x offset, dy offset, mean offset, rstd offset, dw offset, db offset. */
export const NORM_PARAMS_WORDS = 8;

/** Column strips of `cw` columns per workgroup, `wg / cw` lanes down the rows. */
export function paramStrip(wg: number): number {
  return Math.min(32, wg);
}

/** `s.weight` and `s.bias` say which of dw and db are written; `s.centred` subtracts the row mean. */
export function normParamsSource(s: NormSpec): string {
  const ins = [...(s.centred ? ['mean'] : []), 'rstd'];
  const outs = [...(s.weight ? ['dw'] : []), ...(s.bias ? ['db'] : [])];
  const vout = vectors(outs, 1, s.packed, true, (k) => (outs[k] === 'dw' ? 6 : 7));
  const vin = vectors(ins, 1 + vout.bindings + 2, s.packed, false, (k) => (ins[k] === 'mean' ? 4 : 5));
  const cw = paramStrip(s.wg);
  const lanes = s.wg / cw;
  const parts = [...(s.weight ? ['pw'] : []), ...(s.bias ? ['pb'] : [])];
  return `${paramBlock(NORM_PARAMS_WORDS)}
${vout.decls}
${storage(1 + vout.bindings, 'x', 'f32', false)}
${storage(2 + vout.bindings, 'dy', 'f32', false)}
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
            let d = dy[${pu(3)} + r * cols + col];
            sw += d * (x[${pu(2)} + r * cols + col] - ${s.centred ? 'mean_at(r)' : '0.0'}) * rstd_at(r);
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
