/**
 * Backend.adamwIncrement, SIFT's step: adamw.ts's update on the increment δ of k components, then
 * param[idx] = base + δ. Fused it binds eight storage buffers (nine with per-component step counts); a device
 * allowing fewer runs it in pieces: the step, then the write-back; on four-buffer devices the moments, the
 * increment, the sum base + δ and scatterFlat's 'set' kernel.
 *
 * The state (base, δ, m, v, steps) is float32; the parameter may be float16 or bfloat16 (frozen half weights,
 * SIFT's f32 increment): base + δ is summed in f32 and rounded once into the parameter's format as it is written,
 * so an update below the half format's spacing stays in δ until it moves the rounded weight.
 */
import { type AdamWIncrementArgs, type BackendStorage, DTypeError, isHalf } from '@siftjs/tensor';
import { INDEX_ERROR, IndexOp } from '../dispatch/index-errors.js';
import type { GpuRuntime } from '../runtime.js';
import { type Elem, Params, binding, halfFunctions, paramBlock, pf, pu } from '../wgsl/common.js';
import { MOMENTS, adamwMain, adamwParams, optimizerBuffers } from './adamw.js';
import { scatterFlatSetSource } from './scatterFlat.js';

/**
 * SIFT's step: one kernel where the device allows its eight (nine) storage buffers, else the step and then the
 * write-back (five each), else — four-buffer devices — moments, increment, sum and scatter.
 */
export function adamwIncrement(rt: GpuRuntime, a: AdamWIncrementArgs): void {
  const label = `adamwIncrement ${a.dtype}, k ${a.k}`;
  rt.op(label, () => {
    if (a.paramDtype !== 'float32' && !isHalf(a.paramDtype)) throw new DTypeError(`webgpu ${label}: a float32, float16 or bfloat16 parameter only, got ${a.paramDtype}`);
    const named: [string, BackendStorage][] = [['indices', a.indices], ['base', a.base], ['delta', a.delta], ['grad', a.grad], ['m', a.m], ['v', a.v]];
    if (a.steps) named.push(['steps', a.steps]);
    const [I, B, D, G, M, V, S] = optimizerBuffers(rt, label, a.dtype, a.k, named);
    const [P] = optimizerBuffers(rt, label, a.paramDtype, a.paramSize, [['param', a.param]], true);
    const pe = rt.elem(a.paramDtype, label);
    const steps = a.steps !== null;
    const c = a.c;
    const params = adamwParams(a.k, c).f32(c.lr).f32(c.logBeta1).f32(c.logBeta2).u32(a.paramSize);
    const groups = rt.groups(a.k);
    const withSteps = (bufs: GPUBuffer[]) => (steps ? [...bufs, S] : bufs);
    const err = rt.indexErrors.use();
    if (!rt.tooMany(steps ? 9 : 8)) {
      rt.launch(label, adamwIncrementSource(rt.wg, steps, pe), params, [...withSteps([P, I, B, D, G, M, V]), err], groups);
    } else if (!rt.tooMany(5)) {
      rt.launch(label, adamwIncrementStepSource(rt.wg, steps), params, withSteps([D, G, M, V]), groups);
      rt.launch(label, adamwIncrementWriteBackSource(rt.wg, pe), params, [P, I, B, D, err], groups);
    } else {
      rt.launch(label, adamwIncrementMomentsSource(rt.wg), params, [G, M, V], groups);
      rt.launch(label, adamwIncrementDeltaSource(rt.wg, steps), params, withSteps([D, M, V]), groups);
      const sum = rt.make('float32', a.k, label);
      try {
        rt.launch(label, adamwIncrementSumSource(rt.wg), params, [sum.buffer, B, D], groups);
        const scatter = new Params().u32(a.k).u32(a.paramSize).u32(0).u32(0).u32(IndexOp.adamwIncrement);
        rt.launch(label, scatterFlatSetSource(pe, 'f32', rt.wg), scatter, [P, I, sum.buffer, err], groups);
      } finally {
        rt.free(sum);
      }
    }
  });
}

/** Words: adamw's nine (adamwParams), then lr, ln β₁, ln β₂ (per-component bias correction), param size. */
const INCREMENT_WORDS = 13;

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
    ? `    let t = steps_at(i) + 1.0;
    steps_set(i, t);
    let step_size = ${pf(9)} / one_minus_pow(${pf(10)}, t);
    let bc2 = sqrt(one_minus_pow(${pf(11)}, t));`
    : `    let step_size = ${pf(6)};
    let bc2 = ${pf(7)};`;
  return `${bias}
    let di = delta_at(i) * ${pf(5)} - (step_size * mi) / (sqrt(vi) / bc2 + ${pf(8)});
    delta_set(i, di);`;
}

const WRITE_BACK = (value: string) => `    let at = idx_at(i);
    if (u32(at) < ${pu(12)}) { param_set(u32(at), ${value}); } else { report_index(${IndexOp.adamwIncrement}u, at, ${pu(12)}); }`;

/** The whole step in one kernel: param, idx, base, delta, g, m, v, (steps), error word. */
function adamwIncrementSource(wg: number, steps: boolean, pe: Elem): string {
  const b = [
    binding(1, 'param', pe, true),
    binding(2, 'idx', 'i32', false),
    binding(3, 'base', 'f32', false),
    binding(4, 'delta', 'f32', true),
    binding(5, 'g', 'f32', false),
    binding(6, 'm', 'f32', true),
    binding(7, 'v', 'f32', true),
    ...(steps ? [binding(8, 'steps', 'f32', true)] : []),
    INDEX_ERROR(steps ? 9 : 8),
    halfFunctions(pe),
  ];
  return `${paramBlock(INCREMENT_WORDS)}
${b.join('\n')}
${steps ? ONE_MINUS_POW : ''}
${adamwMain(wg)}
${MOMENTS}
    m_set(i, mi);
    v_set(i, vi);
${incrementUpdate(steps)}
${WRITE_BACK('base_at(i) + di')}
}
`;
}

/** The step without the write-back: delta, g, m, v, (steps). */
function adamwIncrementStepSource(wg: number, steps: boolean): string {
  return `${paramBlock(INCREMENT_WORDS)}
${binding(1, 'delta', 'f32', true)}
${binding(2, 'g', 'f32', false)}
${binding(3, 'm', 'f32', true)}
${binding(4, 'v', 'f32', true)}
${steps ? binding(5, 'steps', 'f32', true) : ''}
${steps ? ONE_MINUS_POW : ''}
${adamwMain(wg)}
${MOMENTS}
    m_set(i, mi);
    v_set(i, vi);
${incrementUpdate(steps)}
}
`;
}

/** For four-buffer devices, the step in two kernels: first the moments (g, m, v)… */
function adamwIncrementMomentsSource(wg: number): string {
  return `${paramBlock(INCREMENT_WORDS)}
${binding(1, 'g', 'f32', false)}
${binding(2, 'm', 'f32', true)}
${binding(3, 'v', 'f32', true)}
${adamwMain(wg)}
${MOMENTS}
    m_set(i, mi);
    v_set(i, vi);
}
`;
}

/** …then δ from the new moments (delta, m, v, (steps)). */
function adamwIncrementDeltaSource(wg: number, steps: boolean): string {
  return `${paramBlock(INCREMENT_WORDS)}
${binding(1, 'delta', 'f32', true)}
${binding(2, 'm', 'f32', false)}
${binding(3, 'v', 'f32', false)}
${steps ? binding(4, 'steps', 'f32', true) : ''}
${steps ? ONE_MINUS_POW : ''}
${adamwMain(wg)}
    let mi = m_at(i);
    let vi = v_at(i);
${incrementUpdate(steps)}
}
`;
}

/** The write-back alone: param[idx] = base + δ (param, idx, base, delta, error word). */
function adamwIncrementWriteBackSource(wg: number, pe: Elem): string {
  return `${paramBlock(INCREMENT_WORDS)}
${binding(1, 'param', pe, true)}
${halfFunctions(pe)}
${binding(2, 'idx', 'i32', false)}
${binding(3, 'base', 'f32', false)}
${binding(4, 'delta', 'f32', false)}
${INDEX_ERROR(5)}
${adamwMain(wg)}
${WRITE_BACK('base_at(i) + delta_at(i)')}
}
`;
}

/** For four-buffer devices: sum = base + δ (sum, base, delta), then scatterFlat's 'set' kernel writes it. */
function adamwIncrementSumSource(wg: number): string {
  return `${paramBlock(INCREMENT_WORDS)}
${binding(1, 'sum', 'f32', true)}
${binding(2, 'base', 'f32', false)}
${binding(3, 'delta', 'f32', false)}
${adamwMain(wg)}
    sum_set(i, base_at(i) + delta_at(i));
}
`;
}
