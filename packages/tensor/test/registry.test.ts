import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { registerBackend, registeredBackends, registerUnavailableBackend, setBackend, unavailableBackends } from '../src/backend/registry.js';
import { BackendError } from '../src/errors.js';

// The registry is process-wide: every name here is this file's own, so no other backend is disturbed.
const stub = (name: string) => ({ name }) as unknown as Backend;

describe('the backend registry names why a backend cannot be used', () => {
  it("setBackend on a backend whose package said it cannot run gives the package's reason", async () => {
    registerUnavailableBackend('test-gpu-a', 'driver: libtestgpu.so.1 not found');
    await expect(setBackend('test-gpu-a')).rejects.toThrow(BackendError);
    await expect(setBackend('test-gpu-a')).rejects.toThrow("backend 'test-gpu-a' is not available here: driver: libtestgpu.so.1 not found");
    await expect(setBackend('test-gpu-a')).rejects.not.toThrow(/import its package/);
    expect(registeredBackends()).not.toContain('test-gpu-a');
    expect(unavailableBackends()['test-gpu-a']).toBe('driver: libtestgpu.so.1 not found');
  });

  it('a name nobody registered still says to import its package', async () => {
    await expect(setBackend('test-gpu-never')).rejects.toThrow(/no backend named 'test-gpu-never' is registered.*import its package/);
  });

  it('a later registration replaces the reason; an unavailability never shadows a registered backend', async () => {
    registerUnavailableBackend('test-gpu-b', 'no device');
    registerBackend('test-gpu-b', () => stub('test-gpu-b'));
    expect((await setBackend('test-gpu-b')).name).toBe('test-gpu-b');
    expect(unavailableBackends()).not.toHaveProperty('test-gpu-b');
    registerUnavailableBackend('test-gpu-b', 'no device');
    expect((await setBackend('test-gpu-b')).name).toBe('test-gpu-b');
  });
});
