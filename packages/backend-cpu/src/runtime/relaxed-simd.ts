/**
 * WebAssembly relaxed SIMD (f32x4.relaxed_madd: a fused multiply-add where the CPU has one) roughly doubles what
 * the 128-bit matmul kernel can do per cycle: it goes from one mul + one add per product to one FMA. Browsers ship
 * it (Chrome 114, Firefox 120); Node 20's V8 has it behind --experimental-wasm-relaxed-simd, which can be turned
 * on while the process runs, before the module is compiled. V8 flags are process-wide, so worker threads started
 * afterwards see it too.
 */

/** The smallest module using relaxed SIMD: (func (param v128 v128 v128) (result v128) f32x4.relaxed_madd). */
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // local.get ×3, relaxed_madd
]);

let cached: boolean | undefined;

/**
 * Whether this engine compiles relaxed SIMD, turning it on in Node where it is behind a flag. SIFT_WASM_FMA=0
 * keeps it off (the plain SIMD kernels then run everywhere, with results that do not depend on the CPU's FMA).
 */
export function relaxedSimd(): boolean {
  if (cached !== undefined) return cached;
  const env = typeof process !== 'undefined' ? process.env?.SIFT_WASM_FMA : undefined;
  if (env === '0') return (cached = false);
  if (validates()) return (cached = true);
  try {
    // process.getBuiltinModule (Node ≥ 20.16) rather than an import, so browser bundles never see node:v8.
    const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const v8 = getBuiltin?.('node:v8') as { setFlagsFromString(flags: string): void } | undefined;
    v8?.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // not Node, or flags locked: relaxed SIMD stays off
  }
  return (cached = validates());
}

function validates(): boolean {
  try {
    return typeof WebAssembly !== 'undefined' && WebAssembly.validate(PROBE);
  } catch {
    return false;
  }
}
