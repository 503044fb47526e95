import { BackendError } from '../errors.js';
import type { Backend } from './backend.js';

type Factory = () => Backend | Promise<Backend>;

interface Entry {
  factory: Factory;
  priority: number;
  instance?: Backend;
}

const entries = new Map<string, Entry>();
/** Backends whose package is loaded but cannot run here, with the package's reason. */
const unavailable = new Map<string, string>();
let current: Backend | null = null;

/**
 * Makes a backend available by name. Importing a backend package registers it; the highest priority one
 * that can be created synchronously becomes the default the first time a tensor is made.
 */
export function registerBackend(name: string, factory: Factory, priority = 0): void {
  entries.set(name, { factory, priority });
  unavailable.delete(name);
}

/**
 * Records that a backend's package is loaded but cannot run here, and why (no driver, no device): `setBackend`
 * then fails with that reason rather than "not registered". A later `registerBackend` of the name replaces it.
 */
export function registerUnavailableBackend(name: string, reason: string): void {
  if (!entries.has(name)) unavailable.set(name, reason);
}

/** The backends that can be started (`setBackend`). */
export function registeredBackends(): string[] {
  return [...entries.keys()];
}

/** The backends whose packages are loaded but cannot run here, each with its reason. */
export function unavailableBackends(): Record<string, string> {
  return Object.fromEntries(unavailable);
}

/** Switches the backend new tensors are created on. Awaits device start-up (an adapter, a context). */
export async function setBackend(name: string): Promise<Backend> {
  const entry = entries.get(name);
  const why = unavailable.get(name);
  if (!entry && why !== undefined) throw new BackendError(`setBackend: backend '${name}' is not available here: ${why}`);
  if (!entry) {
    throw new BackendError(
      `setBackend: no backend named '${name}' is registered (registered: ${registeredBackends().join(', ') || 'none'}); import its package, e.g. '@siftjs/backend-${name}'`,
    );
  }
  entry.instance ??= await entry.factory();
  await entry.instance.init?.();
  current = entry.instance;
  return current;
}

/** The current backend; on first use, the highest-priority registered one that starts synchronously. */
export function getBackend(): Backend {
  if (current) return current;
  const sorted = [...entries.entries()].sort((a, b) => b[1].priority - a[1].priority);
  for (const [, entry] of sorted) {
    if (entry.instance) return (current = entry.instance);
    const made = entry.factory();
    if (!(made instanceof Promise)) {
      entry.instance = made;
      return (current = made);
    }
  }
  throw new BackendError(
    "no backend is registered: import '@siftjs/backend-cpu' (or another backend package) before making tensors",
  );
}

/** A started backend by name, for moving tensors between devices. */
export function findBackend(name: string): Backend {
  const inst = entries.get(name)?.instance;
  if (!inst) throw new BackendError(`backend '${name}' has not been started: call await setBackend('${name}') first`);
  return inst;
}
