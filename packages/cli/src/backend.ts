import { setBackend } from '@siftjs/tensor';
import { UsageError } from './errors.js';

export const BACKENDS = ['cpu', 'webgpu', 'cuda'] as const;

/**
 * Loads and selects a backend by name. The GPU backends are separate packages that register themselves when
 * imported and say why when they cannot run here (no adapter, no driver).
 */
export async function useBackend(name: string): Promise<void> {
  if (!(BACKENDS as readonly string[]).includes(name)) throw new UsageError(`unknown backend '${name}' (one of ${BACKENDS.join(', ')})`);
  if (name === 'cpu') {
    await import('@siftjs/backend-cpu');
    await setBackend('cpu');
    return;
  }
  const pkg = `@siftjs/backend-${name}`;
  let mod: { isAvailable?: () => Promise<{ available: boolean; reason?: string }> | { available: boolean; reason?: string } };
  try {
    mod = (await import(pkg)) as typeof mod;
  } catch (e) {
    throw new UsageError(`backend '${name}' cannot load: ${(e as Error).message}`);
  }
  if (!mod.isAvailable) throw new UsageError(`backend '${name}' is not available in this build (${pkg} has no kernels yet); use --backend cpu`);
  const status = await mod.isAvailable();
  if (!status.available) throw new UsageError(`backend '${name}' is not available here: ${status.reason ?? 'no device'}`);
  await setBackend(name);
}
