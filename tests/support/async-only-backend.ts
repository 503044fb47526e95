import { CpuBackend } from '@siftjs/backend-cpu';
import { type Backend, type DType, registerBackend, setBackend } from '@siftjs/tensor';

/** Knobs of the 'cpu-async' backend, set by a test and reset after it. */
export const asyncReads: {
  /** The storage whose read fails ('device lost'), as a device lost in the middle of a save. */
  failOn: object | null;
  /** Called on every read, after the wait and before the value comes back. */
  onRead: (() => void) | null;
} = { failOn: null, onRead: null };

/**
 * The CPU backend as an asynchronous GPU looks to a caller: no readSync, so only `await toArray()` reads, and each
 * read waits a real timer tick, so a save is suspended mid-file.
 */
function asyncOnly(inner: Backend): Backend {
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'readSync') return undefined;
      if (key === 'name') return 'cpu-async';
      if (key === 'read') {
        return async (storage: object, dtype: DType, size: number) => {
          await new Promise((r) => setTimeout(r, 1));
          asyncReads.onRead?.();
          if (storage === asyncReads.failOn) throw new Error('device lost');
          return target.read(storage as never, dtype, size);
        };
      }
      const v = Reflect.get(target, key, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Registers 'cpu-async' beside 'cpu' and leaves 'cpu' current. */
export async function registerAsyncOnlyCpu(): Promise<void> {
  await import('@siftjs/backend-cpu');
  registerBackend('cpu-async', () => asyncOnly(new CpuBackend()));
  await setBackend('cpu-async');
  await setBackend('cpu');
}
