/**
 * AdamW (PyTorch's update, as the CPU's kernels/adamw.ts), one invocation per element, in f32:
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p·(1 − lr·λ) − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps)
 * The per-step constants are computed once on the host in float64 (adamwConstants in @siftjs/tensor). The CPU
 * keeps the new m and v in float64 for the parameter update; here they are f32, a difference of an ulp or so.
 *
 * SIFT's adamwIncrement is the same step on the increment δ of k components, then param[idx] = base + δ. Fused it
 * binds eight storage buffers (nine with per-component step counts); a device allowing fewer runs it in pieces
 * (see ops/optim.ts): the step, then the write-back; on four-buffer devices the moments, the increment, the sum
 * base + δ and a scatter.
 */
import { LINEAR_GROUP, paramBlock, pf, pu, storage } from './common.js';
import { INDEX_ERROR, IndexOp } from './indexing.js';

/** Words: n, β₁, 1−β₁, β₂, 1−β₂, decay, stepSize, bc2, eps. */
export const ADAMW_WORDS = 9;

const HEAD = (wg: number) => `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let i = group * ${wg}u + lid;
    if (i >= ${pu(0)}) { return; }`;

/** The new moments of element i (words 1–4). */
const MOMENTS = `    let gi = g[i];
    let mi = ${pf(1)} * m[i] + ${pf(2)} * gi;
    let vi = ${pf(3)} * v[i] + ${pf(4)} * gi * gi;`;

export function adamwSource(wg: number): string {
  return `${paramBlock(ADAMW_WORDS)}
${storage(1, 'p', 'f32', true)}
${storage(2, 'g', 'f32', false)}
${storage(3, 'm', 'f32', true)}
${storage(4, 'v', 'f32', true)}
${HEAD(wg)}
${MOMENTS}
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * ${pf(5)} - (${pf(6)} * mi) / (sqrt(vi) / ${pf(7)} + ${pf(8)});
}
`;
}

/** Words of adamwIncrement: ADAMW_WORDS, then lr, ln β₁, ln β₂ (per-component bias correction), param size. */
export const INCREMENT_WORDS = 13;

/**
 * 1 − βᵗ as −expm1(t·ln β): for the first steps 1 − βᵗ is tiny (1 − 0.999 = 0.001), and f32's pow would lose
 * about four digits of it; a series near zero keeps it to an ulp or two.
 */
const ONE_MINUS_POW = `
fn one_minus_pow(ln_beta: f32, t: f32) -> f32 {
    let x = t * ln_beta;
    if (abs(x) > 0.5) { return 1.0 - exp(x); }
    var term = x;
    var sum = x;
    for (var n = 2.0; n <= 9.0; n += 1.0) { term = term * x / n; sum += term; }
    return -sum;
}`;

/** δ's update for element i from mi and vi; with `steps`, the count is incremented and its bias correction used. */
function incrementUpdate(steps: boolean): string {
  const bias = steps
    ? `    let t = steps[i] + 1.0;
    steps[i] = t;
    let step_size = ${pf(9)} / one_minus_pow(${pf(10)}, t);
    let bc2 = sqrt(one_minus_pow(${pf(11)}, t));`
    : `    let step_size = ${pf(6)};
    let bc2 = ${pf(7)};`;
  return `${bias}
    let di = delta[i] * ${pf(5)} - (step_size * mi) / (sqrt(vi) / bc2 + ${pf(8)});
    delta[i] = di;`;
}

const WRITE_BACK = (value: string) => `    let at = idx[i];
    if (u32(at) < ${pu(12)}) { param[at] = ${value}; } else { report_index(${IndexOp.adamwIncrement}u, at, ${pu(12)}); }`;

/** The whole step in one kernel: param, idx, base, delta, g, m, v, (steps), error word. */
export function adamwIncrementSource(wg: number, steps: boolean): string {
  const b = [
    storage(1, 'param', 'f32', true),
    storage(2, 'idx', 'i32', false),
    storage(3, 'base', 'f32', false),
    storage(4, 'delta', 'f32', true),
    storage(5, 'g', 'f32', false),
    storage(6, 'm', 'f32', true),
    storage(7, 'v', 'f32', true),
    ...(steps ? [storage(8, 'steps', 'f32', true)] : []),
    INDEX_ERROR(steps ? 9 : 8),
  ];
  return `${paramBlock(INCREMENT_WORDS)}
${b.join('\n')}
${steps ? ONE_MINUS_POW : ''}
${HEAD(wg)}
${MOMENTS}
    m[i] = mi;
    v[i] = vi;
${incrementUpdate(steps)}
${WRITE_BACK('base[i] + di')}
}
`;
}

/** The step without the write-back: delta, g, m, v, (steps). */
export function incrementStepSource(wg: number, steps: boolean): string {
  return `${paramBlock(INCREMENT_WORDS)}
${storage(1, 'delta', 'f32', true)}
${storage(2, 'g', 'f32', false)}
${storage(3, 'm', 'f32', true)}
${storage(4, 'v', 'f32', true)}
${steps ? storage(5, 'steps', 'f32', true) : ''}
${steps ? ONE_MINUS_POW : ''}
${HEAD(wg)}
${MOMENTS}
    m[i] = mi;
    v[i] = vi;
${incrementUpdate(steps)}
}
`;
}

/** For four-buffer devices, the step in two kernels: first the moments (g, m, v)… */
export function incrementMomentsSource(wg: number): string {
  return `${paramBlock(INCREMENT_WORDS)}
${storage(1, 'g', 'f32', false)}
${storage(2, 'm', 'f32', true)}
${storage(3, 'v', 'f32', true)}
${HEAD(wg)}
${MOMENTS}
    m[i] = mi;
    v[i] = vi;
}
`;
}

/** …then δ from the new moments (delta, m, v, (steps)). */
export function incrementDeltaSource(wg: number, steps: boolean): string {
  return `${paramBlock(INCREMENT_WORDS)}
${storage(1, 'delta', 'f32', true)}
${storage(2, 'm', 'f32', false)}
${storage(3, 'v', 'f32', false)}
${steps ? storage(4, 'steps', 'f32', true) : ''}
${steps ? ONE_MINUS_POW : ''}
${HEAD(wg)}
    let mi = m[i];
    let vi = v[i];
${incrementUpdate(steps)}
}
`;
}

/** The write-back alone: param[idx] = base + δ (param, idx, base, delta, error word). */
export function incrementWriteBackSource(wg: number): string {
  return `${paramBlock(INCREMENT_WORDS)}
${storage(1, 'param', 'f32', true)}
${storage(2, 'idx', 'i32', false)}
${storage(3, 'base', 'f32', false)}
${storage(4, 'delta', 'f32', false)}
${INDEX_ERROR(5)}
${HEAD(wg)}
${WRITE_BACK('base[i] + delta[i]')}
}
`;
}

/** For four-buffer devices: sum = base + δ (sum, base, delta), then the indexing kernels' scatter writes it. */
export function incrementSumSource(wg: number): string {
  return `${paramBlock(INCREMENT_WORDS)}
${storage(1, 'sum', 'f32', true)}
${storage(2, 'base', 'f32', false)}
${storage(3, 'delta', 'f32', false)}
${HEAD(wg)}
    sum[i] = base[i] + delta[i];
}
`;
}
