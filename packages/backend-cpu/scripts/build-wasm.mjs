// Assembles src/kernels/wasm/*.wat into src/kernels/wasm/binaries.generated.ts (base64), so the package ships the kernels
// inside its JavaScript and needs no file loading at run time. Run by `npm run build:wasm` in this package; the
// generated file is committed, and a test checks it matches the .wat sources.
//
// gemm-f32.wat is also assembled a second time as `gemm-f32-fma`: its micro-kernel's multiply-adds
// `c = c + x·b` become relaxed-SIMD `f32x4.relaxed_madd x b c` (one fused multiply-add where the CPU has FMA). The
// two share every other line, so the variant is derived here rather than kept as a second source to keep in step.
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import binaryen from 'binaryen';
import wabtInit from 'wabt';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The .wat sources and the generated module, beside the kernels that call them. */
const wasmDir = `${root}src/kernels/wasm/`;

/**
 * Every `(v128.const …)` of a module becomes a global read. V8 (Node 20) builds each v128.const in registers from
 * immediates (three or four instructions) every time it runs, where a global is one load: exp's polynomial alone
 * has a dozen constants, and this made exp / tanh / softmax about 30% faster (measured on 1016 × 8192 rows).
 * The sources keep the constants where they are used, which reads better.
 */
export function constantsToGlobals(source) {
  const names = new Map();
  const toGlobal = (constant) => {
    const key = constant.replace(/\s+/g, ' ');
    if (!names.has(key)) names.set(key, `$const${names.size}`);
    return `(global.get ${names.get(key)})`;
  };
  // A global's own initialiser must stay a constant expression.
  const body = source
    .split('\n')
    .map((line) => (/^\s*\(global /.test(line) ? line : line.replace(/\(v128\.const (?:i8x16|i16x8|i32x4|i64x2|f32x4|f64x2) [^()]*\)/g, toGlobal)))
    .join('\n');
  if (names.size === 0) return source;
  // Globals are definitions, so they go after the imports: before the first function.
  const at = body.search(/\n\s*\(func /);
  if (at < 0) throw new Error('constantsToGlobals: no function in the module');
  const globals = [...names].map(([constant, name]) => `\n  (global ${name} v128 ${constant})`).join('');
  return body.slice(0, at) + globals + body.slice(at);
}

/** `(f32x4.add (local.get $cIJ) (f32x4.mul (local.get $x) (local.get $bJ)))`: one multiply-add of the micro-kernel. */
const MULTIPLY_ADD = /\(f32x4\.add \(local\.get (\$c\d\d)\) \(f32x4\.mul \(local\.get (\$x)\) \(local\.get (\$b\d)\)\)\)/g;
/** The micro-kernel's multiply-adds: 4×8 tile (8 vectors), k unrolled twice. */
const TILE_MULTIPLY_ADDS = 16;

/** gemm-f32.wat with its micro-kernel's multiply-adds fused (relaxed SIMD). */
export function fusedGemm(source) {
  let count = 0;
  const fused = source.replace(MULTIPLY_ADD, (_, c, x, b) => {
    count++;
    return `(f32x4.relaxed_madd (local.get ${x}) (local.get ${b}) (local.get ${c}))`;
  });
  if (count !== TILE_MULTIPLY_ADDS) throw new Error(`gemm-f32.wat: expected ${TILE_MULTIPLY_ADDS} multiply-adds to fuse, found ${count}`);
  return fused;
}

/**
 * Every call inlined (Binaryen's inliner, nothing else): V8 (Node 20) does not inline wasm calls and saves every live
 * vector register around each one, so a helper like `$exp` called per vector cost more than its arithmetic (4096 × 768 float32, 2 threads, measured
 * quietly in one session: exp 5.9 → 4.8 ms, softmax forward 10.5 → 8.0, softmax forward+backward 18.8 → 12.4, layer norm
 * forward 5.4 → 2.3). The sources keep the helpers, which read better. Floating-point results are unchanged: inlining
 * moves no arithmetic.
 */
export function inlineCalls(bytes) {
  const mod = binaryen.readBinary(bytes);
  try {
    const f = binaryen.Features;
    mod.setFeatures(f.MVP | f.SIMD128 | f.Atomics | f.Multivalue | f.RelaxedSIMD | f.MutableGlobals | f.BulkMemory | f.BulkMemoryOpt | f.SignExt | f.NontrappingFPToInt);
    binaryen.setAlwaysInlineMaxSize(100000);
    binaryen.setFlexibleInlineMaxSize(100000);
    binaryen.setOneCallerInlineMaxSize(100000);
    binaryen.setAllowInliningFunctionsWithLoops(true);
    mod.runPasses(['inlining', 'remove-unused-module-elements']);
    if (!mod.validate()) throw new Error('inlining produced an invalid module');
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

export async function assembleAll() {
  const wabt = await wabtInit();
  // Node 20's V8 validates relaxed SIMD only behind this flag (later engines have it on by default).
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const sources = [];
  for (const file of readdirSync(wasmDir).filter((f) => f.endsWith('.wat')).sort()) {
    const text = readFileSync(`${wasmDir}${file}`, 'utf8');
    const name = file.replace(/\.wat$/, '');
    sources.push([name, text]);
    if (name === 'gemm-f32') sources.push(['gemm-f32-fma', fusedGemm(text)]);
  }
  const out = {};
  for (const [name, text] of sources) {
    const mod = wabt.parseWat(`${name}.wat`, constantsToGlobals(text), { simd: true, threads: true, relaxed_simd: true, bulk_memory: true });
    const bytes = inlineCalls(mod.toBinary({}).buffer);
    // wabt's own validator ignores the threads feature; the engine's validator is the one that matters.
    try {
      new WebAssembly.Module(bytes);
    } catch (e) {
      throw new Error(`${name}: the assembled module does not validate: ${e.message}`);
    }
    out[name] = Buffer.from(bytes).toString('base64');
    mod.destroy();
  }
  return out;
}

export function render(binaries) {
  const lines = Object.entries(binaries).map(([name, b64]) => `  '${name}': '${b64}',`);
  return `// Generated by scripts/build-wasm.mjs from src/kernels/wasm/*.wat — do not edit.\nexport const wasmBinaries: Record<string, string> = {\n${lines.join('\n')}\n};\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = `${wasmDir}binaries.generated.ts`;
  writeFileSync(`${target}.tmp`, render(await assembleAll()));
  renameSync(`${target}.tmp`, target);
  console.log(`wrote ${target}`);
}
