/**
 * Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a counter-based
 * generator — output block = bijection(counter, key) — so any element can be computed independently, on any
 * device, in any order. Pure arithmetic on numbers: runs in Node and browsers alike.
 *
 * Stream layout (every siftjs backend — CPU, WGSL, CUDA — reproduces it bit for bit):
 *   state   = (seed: 64 bits as uint32 words seedLo, seedHi; offset: integer in [0, 2^53) as offsetLo, offsetHi)
 *   key     = [seedLo, seedHi]
 *   block b = philox4x32-10(counter = [b mod 2^32, floor(b / 2^32), offsetLo, offsetHi], key) → words w0..w3
 *   uint32 / float32 uniform / normal: element i uses block floor(i / 4), word i mod 4.
 *     uniform f32 = (w >>> 8) · 2^-24                                    ∈ [0, 1)
 *   float64 uniform: element i uses block floor(i / 2), words lo = w[2(i mod 2)], hi = w[2(i mod 2) + 1];
 *     uniform f64 = ((hi >>> 5) · 2^26 + (lo >>> 6)) · 2^-53              ∈ [0, 1)
 *   normal (f32 and f64 alike): Box–Muller per word pair (w0, w1) → slots 0, 1 and (w2, w3) → slots 2, 3:
 *     u1 = ((wA >>> 8) + 1) · 2^-24 ∈ (0, 1],  u2 = (wB >>> 8) · 2^-24,  r = sqrt(-2 ln u1)
 *     slot z0 = r cos(2π u2), z1 = r sin(2π u2), computed in float64; float32 stores the rounded value.
 *     float64 normals deliberately use the same 24-bit uniforms, so f32 normals = f64 normals rounded.
 *   A request of n elements uses exactly the words above, whatever n: a shorter request is a prefix of a longer one.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

const TWO_32 = 2 ** 32;
const TWO_M24 = 2 ** -24;
const TWO_M53 = 2 ** -53;
const TWO_PI = 2 * Math.PI;

/**
 * Exact high 32 bits of the product of two uint32s, without BigInt: split both into 16-bit halves so every
 * partial product is below 2^32 (exact in a double) and carry the middle terms by hand. Works on int32 or
 * uint32 inputs alike (only the bit patterns matter); the result is returned as a uint32.
 */
export function mulhi32(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  // The terms weighted 2^16: their low 16 bits fall below bit 32, so only mid >>> 16 carries into hi.
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Exact low 32 bits of the product of two uint32s. */
export function mullo32(a: number, b: number): number {
  return Math.imul(a, b) >>> 0;
}

/** The exact 64-bit product of two uint32s as [hi, lo] (allocates: for tests; the hot loop uses mulhi32 and Math.imul). */
export function mulhilo(a: number, b: number): [hi: number, lo: number] {
  return [mulhi32(a, b), mullo32(a, b)];
}

/** One Philox4x32 block of `rounds` rounds, written to out[at..at+3]. The hot path: it allocates nothing. */
function philoxBlock(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, rounds: number, out: Uint32Array, at: number): void {
  for (let r = 0; r < rounds; r++) {
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0);
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2);
    // Words stay int32 bit patterns inside the loop (cheaper for the JIT); the Uint32Array store reinterprets.
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    // The key schedule (a Weyl sequence) bumps after every round; the bump after the last round is unused.
    k0 = (k0 + W0) | 0;
    k1 = (k1 + W1) | 0;
  }
  out[at] = c0;
  out[at + 1] = c1;
  out[at + 2] = c2;
  out[at + 3] = c3;
}

function checkWord(name: string, w: number): number {
  if (!Number.isInteger(w) || w < 0 || w >= TWO_32) throw new RangeError(`philox: ${name} must be an integer in [0, 2^32), got ${w}`);
  return w;
}

/** The Philox4x32 bijection of a 4-word counter under a 2-word key (`rounds` = 10 for Philox4x32-10). */
export function philox4x32(counter: Uint32Array | readonly number[], key: Uint32Array | readonly number[], rounds = 10): Uint32Array {
  if (counter.length !== 4 || key.length !== 2) throw new RangeError(`philox4x32: need a 4-word counter and a 2-word key, got ${counter.length} and ${key.length}`);
  if (!Number.isInteger(rounds) || rounds < 0) throw new RangeError(`philox4x32: rounds must be a non-negative integer, got ${rounds}`);
  const c = Array.from(counter, (w, i) => checkWord(`counter[${i}]`, w));
  const k = Array.from(key, (w, i) => checkWord(`key[${i}]`, w));
  const out = new Uint32Array(4);
  philoxBlock(c[0], c[1], c[2], c[3], k[0], k[1], rounds, out, 0);
  return out;
}

/**
 * Splits a seed into its uint32 words [lo, hi]. Accepts a non-negative safe-integer number or a bigint in
 * [0, 2^64); anything else is a RangeError (a rounded unsafe number would silently pick another stream).
 */
export function splitSeed(seed: number | bigint): [lo: number, hi: number] {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) throw new RangeError(`splitSeed: a bigint seed must be in [0, 2^64), got ${seed}`);
    return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`splitSeed: a number seed must be a non-negative safe integer (use a bigint up to 2^64 - 1 for larger seeds), got ${seed}`);
  }
  return [seed % TWO_32, Math.floor(seed / TWO_32)];
}

/** A validated request: key words and offset words, shared by all fills. */
interface Stream {
  k0: number;
  k1: number;
  o0: number;
  o1: number;
}

function stream(seedLo: number, seedHi: number, offset: number): Stream {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`philox: offset must be a non-negative integer below 2^53, got ${offset}`);
  return { k0: checkWord('seedLo', seedLo), k1: checkWord('seedHi', seedHi), o0: offset % TWO_32, o1: Math.floor(offset / TWO_32) };
}

/** Block b of a stream into w[0..3]; b may exceed 2^32 (its high word goes to counter[1]). */
function streamBlock(s: Stream, b: number, w: Uint32Array): void {
  philoxBlock(b % TWO_32, Math.floor(b / TWO_32), s.o0, s.o1, s.k0, s.k1, 10, w, 0);
}

/** Raw 32-bit words: element i is word i mod 4 of block floor(i / 4). */
export function fillUint32(out: Uint32Array, seedLo: number, seedHi: number, offset: number): void {
  const s = stream(seedLo, seedHi, offset);
  const n = out.length;
  const full = Math.floor(n / 4);
  // Whole blocks go straight into `out`; only the tail needs scratch space.
  for (let b = 0; b < full; b++) philoxBlock(b % TWO_32, Math.floor(b / TWO_32), s.o0, s.o1, s.k0, s.k1, 10, out, 4 * b);
  if (n > 4 * full) {
    const w = new Uint32Array(4);
    streamBlock(s, full, w);
    for (let i = 4 * full; i < n; i++) out[i] = w[i - 4 * full];
  }
}

/** Uniform [0, 1) float32s from the top 24 bits of each word (exactly representable, never rounds up to 1). */
export function fillUniformF32(out: Float32Array, seedLo: number, seedHi: number, offset: number): void {
  const s = stream(seedLo, seedHi, offset);
  const n = out.length;
  const w = new Uint32Array(4);
  for (let b = 0, i = 0; i < n; b++) {
    streamBlock(s, b, w);
    for (let j = 0; j < 4 && i < n; j++, i++) out[i] = (w[j] >>> 8) * TWO_M24;
  }
}

/** Uniform [0, 1) float64s with 53 random bits: element i takes words (2(i mod 2), 2(i mod 2) + 1) of block floor(i / 2). */
export function fillUniformF64(out: Float64Array, seedLo: number, seedHi: number, offset: number): void {
  const s = stream(seedLo, seedHi, offset);
  const n = out.length;
  const w = new Uint32Array(4);
  for (let b = 0, i = 0; i < n; b++) {
    streamBlock(s, b, w);
    out[i++] = ((w[1] >>> 5) * 2 ** 26 + (w[0] >>> 6)) * TWO_M53;
    if (i < n) out[i++] = ((w[3] >>> 5) * 2 ** 26 + (w[2] >>> 6)) * TWO_M53;
  }
}

/** Box–Muller on one block: slots (i, i+1) from (w0, w1), (i+2, i+3) from (w2, w3), stopping at n. */
function fillNormal(out: Float32Array | Float64Array, seedLo: number, seedHi: number, offset: number): void {
  const s = stream(seedLo, seedHi, offset);
  const n = out.length;
  const w = new Uint32Array(4);
  for (let b = 0, i = 0; i < n; b++) {
    streamBlock(s, b, w);
    for (let pair = 0; pair < 4 && i < n; pair += 2) {
      // u1 ∈ (0, 1] keeps the log finite; u2 ∈ [0, 1) is the angle.
      const u1 = ((w[pair] >>> 8) + 1) * TWO_M24;
      const u2 = (w[pair + 1] >>> 8) * TWO_M24;
      const r = Math.sqrt(-2 * Math.log(u1));
      const theta = TWO_PI * u2;
      out[i++] = r * Math.cos(theta);
      if (i < n) out[i++] = r * Math.sin(theta);
    }
  }
}

/** Standard normal float32s (Box–Muller in float64, rounded on store). */
export function fillNormalF32(out: Float32Array, seedLo: number, seedHi: number, offset: number): void {
  fillNormal(out, seedLo, seedHi, offset);
}

/** Standard normal float64s from the same 24-bit uniforms as fillNormalF32, so the two agree up to float32 rounding. */
export function fillNormalF64(out: Float64Array, seedLo: number, seedHi: number, offset: number): void {
  fillNormal(out, seedLo, seedHi, offset);
}
