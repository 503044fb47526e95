import * as sift from '@siftjs/tensor';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import { gflops, medianMs, settle, settleTf } from '../lib/timing.js';

type Tf = typeof import('@tensorflow/tfjs-core');

/** f32 square matmul, GFLOP/s (2n³ flop per product). */
export async function siftMatmul(n: number): Promise<number> {
  sift.manualSeed(0);
  const a = sift.randn([n, n]);
  const b = sift.randn([n, n]);
  const ms = await medianMs(async () => {
    const c = a.matmul(b);
    await settle(c);
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
    await settleTf(tf, c);
    c.dispose();
  }, { minRuns: 2, minMs: 500 });
  a.dispose();
  b.dispose();
  return gflops(2 * n ** 3, ms);
}
