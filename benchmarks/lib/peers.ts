import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Loads TensorFlow.js with one backend ('cpu' or 'wasm'); null with the reason when it is not installed. */
export async function loadTfjs(backend: 'cpu' | 'wasm'): Promise<{ tf: typeof import('@tensorflow/tfjs-core') } | { missing: string }> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    // The union package registers the gradient functions (tfjs-core alone has none), as users get it.
    await import('@tensorflow/tfjs');
    if (backend === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
    else await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend(backend))) return { missing: `tfjs backend ${backend} failed to start` };
    await tf.ready();
    return { tf };
  } catch (e) {
    return { missing: `tfjs-${backend}: ${(e as Error).message}` };
  }
}

export interface TorchResult {
  version: string;
  threads: number;
  matmul: Record<string, number>;
  mlp: number | null;
}

/**
 * PyTorch on the CPU through Debian's python3-torch (with OpenBLAS), run as a child process with the same
 * configuration; null with the reason when it is not installed (`apt-get install python3-torch libopenblas0-pthread`).
 */
export function runTorch(config: object): TorchResult | { missing: string } {
  const python = process.env.SIFT_BENCH_PYTHON ?? '/usr/bin/python3';
  if (!existsSync(python)) return { missing: `${python} not found` };
  const script = fileURLToPath(new URL('../peers/torch_cpu.py', import.meta.url));
  try {
    const out = execFileSync(python, [script, JSON.stringify(config)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').pop() as string) as TorchResult;
  } catch (e) {
    const msg = (e as { stderr?: string }).stderr ?? (e as Error).message;
    return { missing: `PyTorch: ${msg.trim().split('\n').pop()}` };
  }
}
