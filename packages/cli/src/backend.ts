import { BackendError, setBackend } from '@siftjs/tensor';
import { UsageError } from './errors.js';

/** What `--backend` takes: a backend by name, or `auto` (see `preferredBackend`). */
export const BACKENDS = ['cpu', 'webgpu', 'cuda', 'auto'] as const;
export type BackendName = Exclude<(typeof BACKENDS)[number], 'auto'>;

interface Status {
  available: boolean;
  reason?: string;
  /** WebGPU on a CPU emulation (SwiftShader, llvmpipe). */
  software?: boolean;
}
interface GpuPackage {
  isAvailable?: () => Promise<Status> | Status;
}

/** A GPU backend package's own answer to "can you run here?", or why it did not even load. */
async function probe(name: 'webgpu' | 'cuda'): Promise<Status> {
  const pkg = `@siftjs/backend-${name}`;
  let mod: GpuPackage;
  try {
    mod = (await import(pkg)) as GpuPackage;
  } catch (e) {
    return { available: false, reason: `${pkg} cannot load: ${(e as Error).message.split('\n')[0]}` };
  }
  if (!mod.isAvailable) return { available: false, reason: `${pkg} has no isAvailable() in this build` };
  return mod.isAvailable();
}

/** The first clause of a long reason (CUDA lists every library it looked for). */
const firstClause = (s: string | undefined) => (s ?? 'no device').split('; ')[0];

/**
 * The backend to use when the user lets us choose: CUDA where it runs, WebGPU on a hardware adapter, otherwise
 * the CPU. A software WebGPU adapter (SwiftShader, llvmpipe: a CPU emulation of a GPU) is never chosen over the
 * CPU backend — it computes the same numbers many times slower. `why` says what was passed over.
 */
export async function preferredBackend(): Promise<{ name: BackendName; why: string }> {
  const cuda = await probe('cuda');
  if (cuda.available) return { name: 'cuda', why: 'CUDA is available' };
  const webgpu = await probe('webgpu');
  if (webgpu.available && !webgpu.software) return { name: 'webgpu', why: `WebGPU on ${webgpu.reason}; cuda: ${firstClause(cuda.reason)}` };
  // A software adapter's reason begins 'a software adapter (a CPU emulation…): its name'.
  const gpu = webgpu.available ? `webgpu has only ${webgpu.reason}` : `webgpu: ${firstClause(webgpu.reason)}`;
  return { name: 'cpu', why: `${gpu}; cuda: ${firstClause(cuda.reason)}` };
}

/** Where the notices go: one line each on stderr, beside the command's own progress lines. */
const notice = (line: string) => process.stderr.write(`sift: ${line}\n`);

/**
 * Loads and selects a backend by name (or `auto`). The GPU backends are separate packages that register themselves
 * when imported and say why when they cannot run here (no adapter, no driver). A software WebGPU adapter is named
 * in a notice when selected: it works, but slower than `--backend cpu`.
 */
export async function useBackend(name: string): Promise<BackendName> {
  if (!(BACKENDS as readonly string[]).includes(name)) throw new UsageError(`unknown backend '${name}' (one of ${BACKENDS.join(', ')})`);
  let chosen = name as BackendName | 'auto';
  if (chosen === 'auto') {
    const pick = await preferredBackend();
    notice(`--backend auto: ${pick.name} (${pick.why})`);
    chosen = pick.name;
  }
  if (chosen === 'cpu') {
    await import('@siftjs/backend-cpu');
    try {
      await setBackend('cpu');
    } catch (e) {
      // The environment it reads (SIFT_THREADS, SIFT_BLAS) is the user's input: one line, not a stack trace.
      if (e instanceof BackendError) throw new UsageError(e.message);
      throw e;
    }
    return 'cpu';
  }
  const status = await probe(chosen);
  if (!status.available) throw new UsageError(`backend '${chosen}' is not available here: ${status.reason ?? 'no device'}`);
  if (status.software) notice(`webgpu runs on ${status.reason}; --backend cpu is faster here`);
  await setBackend(chosen);
  return chosen;
}
