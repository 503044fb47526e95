/**
 * AdamW (PyTorch's update, as the CPU's kernels/adamw.ts), one invocation per element, in f32:
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p·(1 − lr·λ) − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps)
 * The per-step constants are computed once on the host in float64 (the CPU's adamwConstants). The CPU keeps
 * the new m and v in float64 for the parameter update; here they are f32, a difference of an ulp or so.
 *
 * Sparse (SIFT): the same step on `values` [k], then param[idx[i]] = values[i]. Fused it binds seven storage
 * buffers (param, idx, values, g, m, v and the index-error word); a device allowing fewer runs the dense step on
 * the values and then the scatter as two kernels (see the backend's adamwSparse).
 */
import { LINEAR_GROUP, paramBlock, pf, pu, storage } from './common.js';
import { INDEX_ERROR, IndexOp } from './indexing.js';

/** Words: n, β₁, 1−β₁, β₂, 1−β₂, decay, stepSize, bc2, eps, (sparse) param size. */
export const ADAMW_WORDS = 10;

export function adamwSource(wg: number, sparse: boolean): string {
  const bindings = sparse
    ? [storage(1, 'param', 'f32', true), storage(2, 'idx', 'i32', false), storage(3, 'p', 'f32', true), storage(4, 'g', 'f32', false), storage(5, 'm', 'f32', true), storage(6, 'v', 'f32', true), INDEX_ERROR(7)]
    : [storage(1, 'p', 'f32', true), storage(2, 'g', 'f32', false), storage(3, 'm', 'f32', true), storage(4, 'v', 'f32', true)];
  const writeBack = sparse
    ? `let at = idx[i];
    if (u32(at) < ${pu(9)}) { param[at] = pi; } else { report_index(${IndexOp.adamwSparse}u, at, ${pu(9)}); }`
    : '';
  return `${paramBlock(ADAMW_WORDS)}
${bindings.join('\n')}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let i = group * ${wg}u + lid;
    if (i >= ${pu(0)}) { return; }
    let gi = g[i];
    let mi = ${pf(1)} * m[i] + ${pf(2)} * gi;
    let vi = ${pf(3)} * v[i] + ${pf(4)} * gi * gi;
    m[i] = mi;
    v[i] = vi;
    let pi = p[i] * ${pf(5)} - (${pf(6)} * mi) / (sqrt(vi) / ${pf(7)} + ${pf(8)});
    p[i] = pi;
    ${writeBack}
}
`;
}
