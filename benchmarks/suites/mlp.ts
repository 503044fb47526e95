import * as sift from '@siftjs/tensor';
import type { Scalar, Variable } from '@tensorflow/tfjs-core';
import { medianMs, settle, settleTf } from '../lib/timing.js';

type Tf = typeof import('@tensorflow/tfjs-core');

/** A 2-layer MLP, loss = mean((tanh(x·W1 + b1)·W2 + b2 − y)²): one forward + backward, in ms. */
export interface MlpConfig {
  batch: number;
  inputs: number;
  hidden: number;
  outputs: number;
}

export async function siftMlp(c: MlpConfig): Promise<number> {
  sift.manualSeed(0);
  const x = sift.randn([c.batch, c.inputs]);
  const y = sift.randn([c.batch, c.outputs]);
  const w1 = sift.randn([c.inputs, c.hidden], { std: 0.05, requiresGrad: true });
  const b1 = sift.zeros([c.hidden], { requiresGrad: true });
  const w2 = sift.randn([c.hidden, c.outputs], { std: 0.05, requiresGrad: true });
  const b2 = sift.zeros([c.outputs], { requiresGrad: true });
  const params = [w1, b1, w2, b2];
  const ms = await medianMs(async () => {
    for (const p of params) {
      p.grad?.dispose();
      p.grad = null;
    }
    const loss = sift.scope(() => x.matmul(w1).add(b1).tanh().matmul(w2).add(b2).sub(y).square().mean());
    loss.backward();
    await settle(w1.grad!);
    loss.dispose();
  });
  for (const t of [x, y, ...params]) t.dispose();
  return ms;
}

export async function tfjsMlp(tf: Tf, c: MlpConfig): Promise<number> {
  const x = tf.randomNormal([c.batch, c.inputs]);
  const y = tf.randomNormal([c.batch, c.outputs]);
  const w1 = tf.variable(tf.randomNormal([c.inputs, c.hidden], 0, 0.05));
  const b1 = tf.variable(tf.zeros([c.hidden]));
  const w2 = tf.variable(tf.randomNormal([c.hidden, c.outputs], 0, 0.05));
  const b2 = tf.variable(tf.zeros([c.outputs]));
  const ms = await medianMs(async () => {
    const { value, grads } = tf.variableGrads(() =>
      tf.tidy(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, w1), b1)), w2), b2), y))) as Scalar),
    );
    await settleTf(tf, grads[(w1 as Variable).name]);
    value.dispose();
    tf.dispose(grads);
  }, { minRuns: 3, minMs: 500 });
  tf.dispose([x, y, w1, b1, w2, b2]);
  return ms;
}
