import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The local nvcc (ENVIRONMENT.md: /usr/local/cuda/bin/nvcc), or null. */
export const NVCC = [process.env.NVCC, process.env.CUDA_HOME && join(process.env.CUDA_HOME, 'bin', 'nvcc'), '/usr/local/cuda/bin/nvcc'].find(
  (p): p is string => !!p && existsSync(p),
) ?? null;

/** Why nvcc tests are skipped; under CI=true a missing nvcc is a failure, not a skip. */
export const NVCC_SKIP = NVCC ? null : 'nvcc not found (set NVCC or CUDA_HOME, or install the CUDA toolkit at /usr/local/cuda)';

export function requireNvccUnderCi(): void {
  if (!NVCC && process.env.CI === 'true') throw new Error(`CI=true but ${NVCC_SKIP}`);
}

export interface Unit {
  name: string;
  source: string;
}

export interface CompileResult {
  ok: boolean;
  log: string;
  /** The PTX text (on success). */
  ptx?: string;
}

/**
 * Compiles many translation units in one nvcc call (`--ptx` of several .cu files into a folder), so a test file
 * pays nvcc's start-up a few times, not once per kernel. On failure, each unit is retried alone to name the culprit.
 */
export async function compilePtx(units: Unit[], extra: string[] = []): Promise<Map<string, CompileResult>> {
  const dir = mkdtempSync(join(tmpdir(), 'sift-cuda-'));
  const results = new Map<string, CompileResult>();
  try {
    const files = units.map((u) => {
      const f = join(dir, `${u.name}.cu`);
      writeFileSync(f, u.source);
      return f;
    });
    const args = ['--ptx', '-arch=sm_90', '-std=c++17', '-w', '--threads', '2', ...extra, '-odir', dir, ...files];
    try {
      await run(NVCC!, args, { maxBuffer: 64 << 20 });
      for (const u of units) {
        const f = join(dir, `${u.name}.ptx`);
        results.set(u.name, existsSync(f) ? { ok: true, log: '', ptx: readFileSync(f, 'utf8') } : { ok: false, log: 'no PTX written' });
      }
      return results;
    } catch {
      for (const [i, u] of units.entries()) {
        try {
          await run(NVCC!, ['--ptx', '-arch=sm_90', '-std=c++17', ...extra, '-o', join(dir, `${u.name}.ptx`), files[i]], { maxBuffer: 64 << 20 });
          results.set(u.name, { ok: true, log: '' });
        } catch (e) {
          const err = e as { stderr?: string; message: string };
          results.set(u.name, { ok: false, log: err.stderr || err.message });
        }
      }
      return results;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds and runs a host program (nvcc as the C++ compiler, host code only, no GPU needed); returns stdout. */
export async function runHostProgram(source: string, extra: string[] = []): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sift-cuda-host-'));
  try {
    const src = join(dir, 'main.cu');
    const exe = join(dir, 'main');
    writeFileSync(src, source);
    await run(NVCC!, ['-std=c++17', '-arch=sm_90', ...extra, '-o', exe, src], { maxBuffer: 64 << 20 });
    const { stdout } = await run(exe, [], { maxBuffer: 256 << 20 });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
