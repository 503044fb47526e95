/**
 * Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a counter-based
 * generator — output block = bijection(counter, key) — so any element can be computed independently, on any
 * device, in any order.
 *
 * The stream layout every siftjs backend reproduces bit for bit:
 *   key     = [seedLo, seedHi]                          (the 64-bit seed)
 *   counter = [b mod 2^32, floor(b / 2^32), offsetLo, offsetHi]   for block b
 *   element i of a request uses block floor(i / 4), word i mod 4      (uniform f32, normal f32/f64, raw words)
 *   float64 uniforms use two words each: element i → block floor(i / 2), words 2(i mod 2) and 2(i mod 2) + 1
 * The default generator gives each request a fresh offset (random/generator.ts).
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** Exact high 32 bits of a 32×32-bit product (JS numbers hold 53 bits, so split into 16-bit halves). */
export function mulhi32(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Exact low 32 bits of a 32×32-bit product. */
export function mullo32(a: number, b: number): number {
  return Math.imul(a, b) >>> 0;
}

/** One Philox4x32 block; writes 4 words into `out` at `at`. */
function block(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, rounds: number, out: Uint32Array, at: number): void {
  for (let r = 0; r < rounds; r++) {
    const hi0 = mulhi32(M0, c0);
    const lo0 = mullo32(M0, c0);
    const hi1 = mulhi32(M1, c2);
    const lo1 = mullo32(M1, c2);
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[at] = c0;
  out[at + 1] = c1;
  out[at + 2] = c2;
  out[at + 3] = c3;
}

/** The Philox4x32 bijection of a 4-word counter under a 2-word key (`rounds` = 10 for Philox4x32-10). */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, rounds = 10): Uint32Array {
  const out = new Uint32Array(4);
  block(counter[0] >>> 0, counter[1] >>> 0, counter[2] >>> 0, counter[3] >>> 0, key[0] >>> 0, key[1] >>> 0, rounds, out, 0);
  return out;
}

function offsetWords(offset: number): [number, number] {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`philox: offset must be a non-negative safe integer, got ${offset}`);
  return [offset % 2 ** 32, Math.floor(offset / 2 ** 32)];
}

/** Calls `use(words, first)` for each block of `blocks`, words[0..3] being block `first + j`'s output. */
function eachBlock(blocks: number, seedLo: number, seedHi: number, offset: number, use: (w: Uint32Array, b: number) => void): void {
  const [o0, o1] = offsetWords(offset);
  const w = new Uint32Array(4);
  for (let b = 0; b < blocks; b++) {
    block(b % 2 ** 32, Math.floor(b / 2 ** 32), o0, o1, seedLo >>> 0, seedHi >>> 0, 10, w, 0);
    use(w, b);
  }
}

/** Raw 32-bit words: element i is word i mod 4 of block floor(i / 4). */
export function fillUint32(out: Uint32Array, seedLo: number, seedHi: number, offset: number): void {
  const n = out.length;
  eachBlock(Math.ceil(n / 4), seedLo, seedHi, offset, (w, b) => {
    for (let j = 0; j < 4 && 4 * b + j < n; j++) out[4 * b + j] = w[j];
  });
}

const TWO_M24 = 2 ** -24;
const TWO_M53 = 2 ** -53;

/** Uniform [0, 1) float32s: the top 24 bits of each word, exactly representable. */
export function fillUniformF32(out: Float32Array, seedLo: number, seedHi: number, offset: number): void {
  const n = out.length;
  eachBlock(Math.ceil(n / 4), seedLo, seedHi, offset, (w, b) => {
    for (let j = 0; j < 4 && 4 * b + j < n; j++) out[4 * b + j] = (w[j] >>> 8) * TWO_M24;
  });
}

/** Uniform [0, 1) float64s with 53 random bits: element i takes words (2(i mod 2), 2(i mod 2)+1) of block floor(i/2). */
export function fillUniformF64(out: Float64Array, seedLo: number, seedHi: number, offset: number): void {
  const n = out.length;
  eachBlock(Math.ceil(n / 2), seedLo, seedHi, offset, (w, b) => {
    for (let j = 0; j < 2 && 2 * b + j < n; j++) {
      const lo = w[2 * j];
      const hi = w[2 * j + 1];
      out[2 * b + j] = ((hi >>> 5) * 2 ** 26 + (lo >>> 6)) * TWO_M53;
    }
  });
}

/**
 * Standard normals by Box–Muller on 24-bit uniforms: words (w0, w1) of a block give slots 0 and 1, (w2, w3)
 * slots 2 and 3; u1 = (w0 >>> 8 + 1)·2⁻²⁴ ∈ (0, 1] so the log is finite. Computed in float64 for both output
 * types, so float32 and float64 normals agree up to float32 rounding.
 */
function fillNormal(out: Float32Array | Float64Array, seedLo: number, seedHi: number, offset: number): void {
  const n = out.length;
  eachBlock(Math.ceil(n / 4), seedLo, seedHi, offset, (w, b) => {
    for (let pair = 0; pair < 2; pair++) {
      const i = 4 * b + 2 * pair;
      if (i >= n) break;
      const u1 = ((w[2 * pair] >>> 8) + 1) * TWO_M24;
      const u2 = (w[2 * pair + 1] >>> 8) * TWO_M24;
      const r = Math.sqrt(-2 * Math.log(u1));
      const theta = 2 * Math.PI * u2;
      out[i] = r * Math.cos(theta);
      if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
    }
  });
}

export function fillNormalF32(out: Float32Array, seedLo: number, seedHi: number, offset: number): void {
  fillNormal(out, seedLo, seedHi, offset);
}

export function fillNormalF64(out: Float64Array, seedLo: number, seedHi: number, offset: number): void {
  fillNormal(out, seedLo, seedHi, offset);
}
