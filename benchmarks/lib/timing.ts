import type { Tensor } from '@siftjs/tensor';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';

type Tf = typeof import('@tensorflow/tfjs-core');

/** Median wall time of `fn` in milliseconds after a warm-up, over at least `minRuns` runs and `minMs` of work. */
export async function medianMs(fn: () => unknown | Promise<unknown>, { minRuns = 3, minMs = 1000, maxRuns = 50 } = {}): Promise<number> {
  await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start < minMs && times.length < maxRuns)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

export const gflops = (flop: number, ms: number) => flop / (ms * 1e6);

/**
 * Waits for a result by reading one element of it: the work is done (and an asynchronous backend's queue has
 * drained) but nothing large is copied out — PyTorch, beside it, is timed without reading anything.
 */
export async function settle(t: Tensor): Promise<void> {
  // Every view is disposed at once: an undisposed one would keep the whole result alive until garbage collection,
  // and the next iteration would then allocate fresh memory (measured: 2.7 ms more per 1024² product).
  const flat = t.reshape([-1]);
  const one = flat.narrow(0, 0, 1);
  flat.dispose();
  await one.toArray();
  one.dispose();
}

/** `settle` for a TensorFlow.js tensor. */
export async function settleTf(tf: Tf, t: TfTensor): Promise<void> {
  const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), [0], [1]));
  await one.data();
  one.dispose();
}
