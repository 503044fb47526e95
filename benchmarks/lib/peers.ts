import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What one implementation measured: GFLOP/s per matmul size, ms per MLP step, GPT-2 training tokens/s. */
export interface Measured {
  matmul: Record<string, number>;
  mlp: number | null;
  gpt2?: { tokensPerSecond: number; ms: number; loss: number } | null;
  [extra: string]: unknown;
}

export type Outcome = Measured | { missing: string };

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * Each implementation runs in a process of its own, one after another in the same run: loading one library
 * must not slow another (loading TensorFlow.js was seen to halve siftjs's matmul speed in a shared process).
 */
export function runChild(cmd: string, args: string[], env: Record<string, string> = {}): Outcome {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26, env: { ...process.env, ...env } });
    const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    if (!line) return { missing: 'no result printed' };
    return JSON.parse(line) as Measured;
  } catch (e) {
    const msg = ((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n').pop();
    return { missing: msg ?? 'failed' };
  }
}

export function runSift(config: object): Outcome {
  return runChild(process.execPath, ['--import', 'tsx', here('../peers/sift.ts'), JSON.stringify(config)]);
}

export function runTfjs(backend: 'cpu' | 'wasm', config: object): Outcome {
  return runChild(process.execPath, ['--import', 'tsx', here('../peers/tfjs.ts'), backend, JSON.stringify(config)]);
}

/** jax-js (@jax-js/jax) on its wasm device: matmul only. */
export function runJax(config: object): Outcome {
  return runChild(process.execPath, ['--import', 'tsx', here('../peers/jax.ts'), JSON.stringify(config)]);
}

/** PyTorch on the CPU through Debian's python3-torch with OpenBLAS (`apt-get install python3-torch libopenblas0-pthread`). */
export function runTorch(config: { threads: number; [key: string]: unknown }): Outcome {
  const python = process.env.SIFT_BENCH_PYTHON ?? '/usr/bin/python3';
  if (!existsSync(python)) return { missing: `${python} not found` };
  // torch.set_num_threads does not reach OpenBLAS's own thread pool: cap both, so "1 thread" means one.
  const threads = String(config.threads);
  return runChild(python, [here('../peers/torch_cpu.py'), JSON.stringify(config)], { OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads });
}
