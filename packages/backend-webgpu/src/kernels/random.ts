/**
 * Backend.random (and the raw words, randomBits): Philox 4x32-10 with the stream layout of @siftjs/tensor's random/philox.ts (key = seed words, block b's counter
 * = [b, 0, offsetLo, offsetHi]; element i = word i mod 4 of block floor(i / 4)). One invocation per block.
 *
 * WGSL has no 64-bit integers, so the 32×32→64 multiplies are split into 16-bit halves (the CPU's mulhi32 does
 * the same in doubles): every partial product fits a u32, and the words come out bit for bit as on the CPU.
 * Uniform float32s are (w >> 8)·2^-24, exact in f32, hence bit-identical too.
 *
 * Normals (Box–Muller): the CPU evaluates ln, sqrt, cos and sin in float64 and rounds once; WGSL only has f32
 * and its built-in log/cos/sin may be coarse (the spec allows 2^-11 absolute error for sin/cos). So ln and
 * sincos(2πu) are written out here — range reduction to a quarter turn / a mantissa near 1, then short series —
 * which keeps the result within a few f32 ulps of the CPU's whatever the GPU's built-ins do: |gpu − cpu| ≤
 * 1.5e-7·(1 + |z|) over 200,000 draws on llvmpipe; the test allows 1e-6·(1 + |z|) for GPUs whose sqrt and
 * division round differently (WGSL allows 2.5 ulps). Normals are therefore close, not bit-identical.
 */
import { type BackendStorage, type DType, DTypeError, isHalf } from '@siftjs/tensor';
import type { GpuStorage } from '../memory/storage.js';
import type { GpuRuntime } from '../runtime.js';
import { Params, linearMain, paramBlock, pu, storage } from '../wgsl/common.js';
import { conversion } from './cast.js';
import { mapNew } from './shared/strided-map.js';

export function random(rt: GpuRuntime, kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number): BackendStorage {
  const label = `random ${kind} ${dtype} ×${size}`;
  return rt.op(label, () => {
    const elem = rt.elem(dtype, label);
    if (dtype === 'float32') return philox(rt, label, kind, 'float32', size, seed, offset);
    if (!isHalf(dtype)) throw new DTypeError(`webgpu ${label}: random numbers are floats, not ${dtype}`);
    // A half dtype draws the float32 stream and rounds it to nearest even, as the CPU does (the same numbers).
    const drawn = philox(rt, label, kind, 'float32', size, seed, offset);
    const view = { storage: drawn, dtype: 'float32' as const, shape: [size], strides: [1], offset: 0 };
    const c = conversion('f32', elem);
    const out = mapNew(rt, label, dtype, [size], [{ view, ...c.input }], c.expr, '', c.output.bits);
    rt.free(drawn);
    return out;
  });
}

/**
 * The raw Philox words (uint32 bit patterns, in an int32 storage) of the stream `random` draws from: element i
 * is word i mod 4 of block floor(i / 4), as @siftjs/tensor's philox.fillUint32.
 */
export function randomBits(rt: GpuRuntime, size: number, seed: readonly [number, number], offset: number): BackendStorage {
  const label = `random bits ×${size}`;
  return rt.op(label, () => philox(rt, label, 'bits', 'int32', size, seed, offset));
}

function philox(rt: GpuRuntime, label: string, kind: RandomKind, dtype: DType, size: number, seed: readonly [number, number], offset: number): GpuStorage {
  for (const w of seed) {
    if (!Number.isInteger(w) || w < 0 || w >= 2 ** 32) throw new RangeError(`webgpu ${label}: seed words must be integers in [0, 2^32), got [${seed.join(', ')}]`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`webgpu ${label}: offset must be a non-negative integer below 2^53, got ${offset}`);
  const out = rt.make(dtype, size, 'random');
  if (size > 0) {
    const p = new Params().u32(size).u32(seed[0]).u32(seed[1]).u32(offset % 2 ** 32).u32(Math.floor(offset / 2 ** 32));
    rt.launch(label, randomSource(kind, rt.wg), p, [out.buffer], rt.groups(Math.ceil(size / 4)));
  }
  return out;
}


type RandomKind = 'uniform' | 'normal' | 'bits';

/** Words: n, seedLo, seedHi, offsetLo, offsetHi. */
const RANDOM_WORDS = 5;

const hex = (x: number) => `0x${x.toString(16)}u`;

const PHILOX = `
fn mulhi(a: u32, b: u32) -> u32 {
    let al = a & 0xffffu;
    let ah = a >> 16u;
    let bl = b & 0xffffu;
    let bh = b >> 16u;
    let lh = al * bh;
    let hl = ah * bl;
    // The terms weighted 2^16: only their carry out of bit 32 reaches the high word.
    let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

fn philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = counter;
    var k = key;
    for (var r = 0u; r < 10u; r++) {
        let hi0 = mulhi(${hex(0xd2511f53)}, c.x);
        let lo0 = ${hex(0xd2511f53)} * c.x;
        let hi1 = mulhi(${hex(0xcd9e8d57)}, c.z);
        let lo1 = ${hex(0xcd9e8d57)} * c.z;
        c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
        k = k + vec2<u32>(${hex(0x9e3779b9)}, ${hex(0xbb67ae85)});
    }
    return c;
}
`;

/** ln(u) for u in (0, 1] (normal f32s), a few ulps on any GPU: u = m·2^e, m ∈ [√½, √2), ln m = 2·atanh((m−1)/(m+1)). */
const LN = `
fn ln_unit(u: f32) -> f32 {
    let bits = bitcast<u32>(u);
    var e = i32(bits >> 23u) - 127;
    var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
    if (m > 1.4142135) { m = m * 0.5; e = e + 1; }
    // m − 1 is exact (Sterbenz), so ln stays accurate relative to itself near u = 1.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let tail = s2 * (0.33333334 + s2 * (0.2 + s2 * (0.14285715 + s2 * (0.11111111 + s2 * 0.09090909))));
    let fe = f32(e);
    // ln 2 split so that fe · LN2_HI is exact.
    return fe * 0.693145751953125 + (fe * 1.4286068e-6 + (2.0 * s + 2.0 * s * tail));
}

// (sin, cos) of 2π·t for t in [-0.5, 0.5]: t = q/4 + f with |f| ≤ 1/8 (exact), then series on |2πf| ≤ π/4.
fn sincos_turns(t: f32) -> vec2<f32> {
    let q = i32(round(4.0 * t));
    let f = t - f32(q) * 0.25;
    let x = f * 6.2831855;
    let x2 = x * x;
    let s = x * (1.0 + x2 * (-0.16666667 + x2 * (0.008333334 + x2 * (-0.0001984127 + x2 * 2.7557319e-6))));
    let c = 1.0 + x2 * (-0.5 + x2 * (0.041666668 + x2 * (-0.0013888889 + x2 * (2.4801588e-5 + x2 * -2.7557319e-7))));
    switch (q & 3) {
        case 0: { return vec2<f32>(s, c); }
        case 1: { return vec2<f32>(c, -s); }
        case 2: { return vec2<f32>(-s, -c); }
        default: { return vec2<f32>(-c, s); }
    }
}

// Box–Muller on one word pair: u1 = ((a >> 8) + 1)·2^-24 ∈ (0, 1], u2 = (b >> 8)·2^-24 ∈ [0, 1).
// cos/sin(2π·u2) = −cos/−sin(2π·(u2 − ½)), and u2 − ½ is exact.
fn normal_pair(a: u32, b: u32) -> vec2<f32> {
    let u1 = f32((a >> 8u) + 1u) * 5.9604644775390625e-8;
    let u2 = f32(b >> 8u) * 5.9604644775390625e-8;
    let r = sqrt(-2.0 * ln_unit(u1));
    let sc = sincos_turns(u2 - 0.5);
    return vec2<f32>(-r * sc.y, -r * sc.x);
}
`;

function randomSource(kind: RandomKind, wg: number): string {
  const outType = kind === 'bits' ? 'u32' : 'f32';
  const values =
    kind === 'bits'
      ? 'w'
      : kind === 'uniform'
        ? 'vec4<f32>(w >> vec4<u32>(8u)) * 5.9604644775390625e-8'
        : 'vec4<f32>(normal_pair(w.x, w.y), normal_pair(w.z, w.w))';
  return `${paramBlock(RANDOM_WORDS)}
${storage(1, 'out', outType, true)}
${PHILOX}
${kind === 'normal' ? LN : ''}
${linearMain(wg, 'b')}
    let n = ${pu(0)};
    let i = b * 4u;
    if (i >= n) { return; }
    // Sizes fit a storage binding (< 2^32 bytes), so block indices stay below 2^30: counter word 1 is 0.
    let w = philox(vec4<u32>(b, 0u, ${pu(3)}, ${pu(4)}), vec2<u32>(${pu(1)}, ${pu(2)}));
    let v = ${values};
    for (var j = 0u; j < 4u && i + j < n; j++) { out[i + j] = v[j]; }
}
`;
}
