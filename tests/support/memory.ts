import { type MemoryStats, memoryStats } from '@siftjs/tensor';
import { expect } from 'vitest';

/** Runs `fn` and fails if it leaves tensors or storage bytes behind. */
export async function expectNoLeaks<R>(fn: () => R | Promise<R>): Promise<R> {
  const before = memoryStats();
  const result = await fn();
  const after = memoryStats();
  expect(leakDelta(before, after), 'live tensors / bytes left behind').toEqual({ liveTensors: 0, bytesInUse: 0 });
  return result;
}

export function leakDelta(before: MemoryStats, after: MemoryStats) {
  return { liveTensors: after.liveTensors - before.liveTensors, bytesInUse: after.bytesInUse - before.bytesInUse };
}
