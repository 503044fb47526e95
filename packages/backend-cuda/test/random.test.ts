import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { philox } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { PRELUDE } from '../src/kernels/common.cu.js';
import { PHILOX_CONSTANTS, PHILOX_DEVICE, PHILOX_ROUNDS, randomKernel } from '../src/kernels/random.cu.js';
import { NVCC, NVCC_SKIP, requireNvccUnderCi, runHostProgram } from './nvcc.js';

const CPU_SOURCE = readFileSync(join(__dirname, '..', '..', 'tensor', 'src', 'random', 'philox.ts'), 'utf8');

/** A `const NAME = 0x…;` of the CPU's philox.ts. */
function cpuConstant(name: string): number {
  const m = new RegExp(`const ${name} = (0x[0-9a-fA-F]+);`).exec(CPU_SOURCE);
  if (!m) throw new Error(`${name} not found in packages/tensor/src/random/philox.ts`);
  return Number(m[1]);
}

describe('Philox template', () => {
  it("uses the CPU's multipliers and key increments", () => {
    for (const k of ['M0', 'M1', 'W0', 'W1'] as const) expect(PHILOX_CONSTANTS[k], k).toBe(cpuConstant(k));
    expect(PHILOX_ROUNDS).toBe(10);
  });

  it('the generated source carries exactly those constants', () => {
    const src = randomKernel('normal', 'float32').source;
    for (const k of ['M0', 'M1', 'W0', 'W1'] as const) {
      const m = new RegExp(`#define PHILOX_${k} (0x[0-9A-F]+)u`).exec(src);
      expect(m, k).not.toBeNull();
      expect(Number(m![1])).toBe(cpuConstant(k));
    }
    expect(src).toMatch(/#define PHILOX_ROUNDS 10\b/);
    expect(src).toContain('6.2831853071795862 * u2');
    expect(Number('6.2831853071795862')).toBe(2 * Math.PI);
  });

  const cases: [number, number, number, number][] = [
    [0, 0, 0, 9],
    [0xdeadbeef, 0x12345678, 2 ** 32 + 5, 7],
    [123, 0, 2 ** 40 + 17, 13],
    [0xffffffff, 0xffffffff, 2 ** 53 - 1, 6],
  ];

  // The same C the GPU runs, compiled for the host: words, uniforms and normals against the CPU, bit for bit.
  it.skipIf(!NVCC)(`the C stream equals the CPU's (host build): words, uniforms and f32 normals bit for bit, f64 normals within 2 ulp${NVCC_SKIP ? ` — skipped: ${NVCC_SKIP}` : ''}`, async () => {
    const lines = cases.map(([lo, hi, off, n]) => {
      const o0 = off % 2 ** 32;
      const o1 = Math.floor(off / 2 ** 32);
      return `run(${lo}u, ${hi}u, ${o0}u, ${o1}u, ${n});`;
    });
    const program = `${PRELUDE}${PHILOX_DEVICE}
#include <cstdio>
#include <cstring>
static unsigned long long bits(double d) { unsigned long long u; std::memcpy(&u, &d, 8); return u; }
static unsigned bitsf(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
static void run(u32 k0, u32 k1, u32 o0, u32 o1, int n) {
  u32 w[4];
  std::printf("u32");
  for (int i = 0; i < n; i++) { philox_stream_block(i / 4, k0, k1, o0, o1, w); std::printf(" %u", w[i % 4]); }
  std::printf("\\nuf32");
  for (int i = 0; i < n; i++) { philox_stream_block(i / 4, k0, k1, o0, o1, w); std::printf(" %u", bitsf(philox_uniform_f32(w[i % 4]))); }
  std::printf("\\nuf64");
  for (int i = 0; i < n; i++) { philox_stream_block(i / 2, k0, k1, o0, o1, w); int s = 2 * (i % 2); std::printf(" %llu", bits(philox_uniform_f64(w[s], w[s + 1]))); }
  std::printf("\\nnf64");
  for (int i = 0; i < n; i++) {
    philox_stream_block(i / 4, k0, k1, o0, o1, w);
    double z[4]; philox_normal_pair(w[0], w[1], &z[0], &z[1]); philox_normal_pair(w[2], w[3], &z[2], &z[3]);
    std::printf(" %llu", bits(z[i % 4]));
  }
  std::printf("\\nnf32");
  for (int i = 0; i < n; i++) {
    philox_stream_block(i / 4, k0, k1, o0, o1, w);
    double z[4]; philox_normal_pair(w[0], w[1], &z[0], &z[1]); philox_normal_pair(w[2], w[3], &z[2], &z[3]);
    std::printf(" %u", bitsf((float)z[i % 4]));
  }
  std::printf("\\n");
}
int main() {
  ${lines.join('\n  ')}
  u32 w[4];
  philox_stream_block((1ull << 32) + 3, 7u, 9u, 11u, 13u, w);
  std::printf("far %u %u %u %u\\n", w[0], w[1], w[2], w[3]);
  return 0;
}
`;
    const out = (await runHostProgram(program, ['--fmad=false'])).trim().split('\n');
    const f64bits = (a: Float64Array) => Array.from(new BigUint64Array(a.buffer), String);
    const f32bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer), String);
    let line = 0;
    for (const [lo, hi, off, n] of cases) {
      const u = new Uint32Array(n);
      philox.fillUint32(u, lo, hi, off);
      const uf = new Float32Array(n);
      philox.fillUniformF32(uf, lo, hi, off);
      const ud = new Float64Array(n);
      philox.fillUniformF64(ud, lo, hi, off);
      const nd = new Float64Array(n);
      philox.fillNormalF64(nd, lo, hi, off);
      const nf = new Float32Array(n);
      philox.fillNormalF32(nf, lo, hi, off);
      const at = `seed [${lo}, ${hi}] offset ${off}`;
      expect(out[line++], `words, ${at}`).toBe(`u32 ${Array.from(u).join(' ')}`);
      expect(out[line++], `uniform f32, ${at}`).toBe(`uf32 ${f32bits(uf).join(' ')}`);
      expect(out[line++], `uniform f64, ${at}`).toBe(`uf64 ${f64bits(ud).join(' ')}`);
      // Normals go through log/cos/sin, and the C library's (glibc here, libdevice on the GPU) and V8's (fdlibm)
      // are not the same functions: float64 normals may differ in the last bit or two (measured: 1 ulp), so
      // they are held to 2 ulp; float32 normals, rounded from those doubles, are compared bit for bit.
      const got = out[line++].split(' ');
      expect(got[0]).toBe('nf64');
      got.slice(1).forEach((b, i) => {
        const ulps = BigInt(b) - new BigUint64Array(nd.buffer)[i];
        expect(ulps <= 2n && ulps >= -2n, `normal f64 element ${i}, ${at}: ${ulps} ulp`).toBe(true);
      });
      expect(out[line++], `normal f32, ${at}`).toBe(`nf32 ${f32bits(nf).join(' ')}`);
    }
    const far = philox.philox4x32([3, 1, 11, 13], [7, 9]);
    expect(out[line]).toBe(`far ${Array.from(far).join(' ')}`);
  }, 60_000);

  it('nvcc is present under CI', () => {
    requireNvccUnderCi();
  });
});
