import * as sift from '@siftjs/tensor';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import { gflops, medianMs } from '../lib/timing.js';

type Tf = typeof import('@tensorflow/tfjs-core');

// Each timed run ends when one element of the product has been read: the whole product is computed (and, on an
// asynchronous backend, the queue has drained), but not copied out — as PyTorch's torch.mm is timed beside it.

/** f32 square matmul, GFLOP/s (2n³ flop per product). */
export async function siftMatmul(n: number): Promise<number> {
  sift.manualSeed(0);
  const a = sift.randn([n, n]);
  const b = sift.randn([n, n]);
  const ms = await medianMs(async () => {
    const c = a.matmul(b);
    const corner = c.narrow(0, 0, 1).narrow(1, 0, 1);
    await corner.toArray();
    corner.dispose();
    c.dispose();
  });
  a.dispose();
  b.dispose();
  return gflops(2 * n ** 3, ms);
}

export async function tfjsMatmul(tf: Tf, n: number): Promise<number> {
  const a = tf.randomNormal([n, n]) as TfTensor;
  const b = tf.randomNormal([n, n]) as TfTensor;
  const ms = await medianMs(async () => {
    const c = tf.matMul(a, b);
    const corner = tf.slice(c, [0, 0], [1, 1]);
    await corner.data();
    corner.dispose();
    c.dispose();
  }, { minRuns: 2, minMs: 500 });
  a.dispose();
  b.dispose();
  return gflops(2 * n ** 3, ms);
}
