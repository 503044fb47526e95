import { describe, expect, it } from 'vitest';
import { CUBLAS_PROTOTYPES, CUDA_R_16BF, CUDA_R_16F, CUDA_R_32F, CUDA_R_64F, DRIVER_PROTOTYPES, NVRTC_PROTOTYPES } from '../src/ffi.js';
import { NVCC, NVCC_SKIP, requireNvccUnderCi, runHostProgram } from './nvcc.js';

/** 'RET name(T a, _Out_ U *b)' → [RET, name, ['T a', 'U *b']] with koffi's direction markers dropped. */
function parse(proto: string): { ret: string; name: string; params: string[] } {
  const m = /^(.*?)\s*\b(\w+)\((.*)\)$/.exec(proto);
  if (!m) throw new Error(`unparsable prototype: ${proto}`);
  const params = m[3].trim() ? m[3].split(',').map((p) => p.replace(/\b_(Out|Inout|In)_\s+/g, '').trim()) : [];
  return { ret: m[1].trim(), name: m[2], params };
}

describe('FFI prototypes', () => {
  it.each(Object.entries({ ...DRIVER_PROTOTYPES, ...NVRTC_PROTOTYPES, ...CUBLAS_PROTOTYPES }))('%s parses and is named after its key', (key, proto) => {
    const p = parse(proto);
    expect(p.name).toBe(key);
    for (const param of p.params) expect(param).toMatch(/^(const )?[\w ]+?\s*\**\s*\w+$/);
  });

  // The driver prototypes are checked against the real cuda.h: a C++ static_assert per function that its
  // declared type is exactly the header's. (No nvrtc.h or cublas headers exist here: those are unverified.)
  it.skipIf(!NVCC)(`driver prototypes match /usr/local/cuda/include/cuda.h exactly${NVCC_SKIP ? ` (skipped: ${NVCC_SKIP})` : ''}`, async () => {
    const asserts = Object.values(DRIVER_PROTOTYPES).map((proto) => {
      const { ret, name, params } = parse(proto);
      return `static_assert(std::is_same<decltype(&${name}), ${ret} (*)(${params.join(', ') || 'void'})>::value, "${name}: the FFI prototype differs from cuda.h");`;
    });
    const program = `#include <cuda.h>\n#include <type_traits>\n#include <cstdio>\n${asserts.join('\n')}\nint main() { std::printf("ok %d\\n", ${asserts.length}); return 0; }\n`;
    const out = await runHostProgram(program);
    expect(out.trim()).toBe(`ok ${asserts.length}`);
  }, 60_000);

  // cuBLAS's data types (what matmul passes as Atype / Btype / Ctype) are library_types.h's, which the toolkit here has.
  it.skipIf(!NVCC)(`the cudaDataType values match /usr/local/cuda/include/library_types.h${NVCC_SKIP ? ` (skipped: ${NVCC_SKIP})` : ''}`, async () => {
    const values = { CUDA_R_32F, CUDA_R_64F, CUDA_R_16F, CUDA_R_16BF };
    const asserts = Object.entries(values).map(([name, v]) => `static_assert(${name} == ${v}, "${name}: ffi.ts says ${v}");`);
    const out = await runHostProgram(`#include <library_types.h>\n#include <cstdio>\n${asserts.join('\n')}\nint main() { std::printf("ok\\n"); return 0; }\n`);
    expect(out.trim()).toBe('ok');
  }, 60_000);

  it('nvcc is present under CI', () => {
    requireNvccUnderCi();
  });
});
