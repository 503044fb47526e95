import { causalMask, LayerNorm, scaledDotProductAttention } from '@siftjs/nn';
import * as sift from '@siftjs/tensor';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import { medianMs, settle, settleTf } from '../lib/timing.js';

type Tf = typeof import('@tensorflow/tfjs-core');

/**
 * Single-op throughput, forward + backward, ms per iteration (loss = sum of the output). The same math is written
 * by hand in benchmarks/peers/torch_cpu.py.
 *   attention: softmax(q·kᵀ/√d + causal mask)·v over [batch, heads, seq, dim], q, k and v requiring grad
 *   layernorm: affine layer norm over the last dim of [rows, dim] (eps 1e-5), x, weight and bias requiring grad
 */
export interface AttentionConfig {
  batch: number;
  heads: number;
  seq: number;
  dim: number;
}

export interface LayerNormConfig {
  rows: number;
  dim: number;
}

export interface OpsConfig {
  attention: AttentionConfig;
  layernorm: LayerNormConfig;
}

export const describeAttention = (c: AttentionConfig) => `${c.batch}×${c.heads}×${c.seq}×${c.dim}`;
export const describeLayerNorm = (c: LayerNormConfig) => `${c.rows}×${c.dim}`;

function clearGrads(ts: sift.Tensor[]): void {
  for (const t of ts) {
    t.grad?.dispose();
    t.grad = null;
  }
}

export async function siftAttention(c: AttentionConfig): Promise<number> {
  sift.manualSeed(0);
  const shape = [c.batch, c.heads, c.seq, c.dim];
  const q = sift.randn(shape, { requiresGrad: true });
  const k = sift.randn(shape, { requiresGrad: true });
  const v = sift.randn(shape, { requiresGrad: true });
  const mask = causalMask(c.seq);
  const inputs = [q, k, v];
  const ms = await medianMs(async () => {
    clearGrads(inputs);
    const loss = sift.scope(() => scaledDotProductAttention(q, k, v, { mask }).sum());
    loss.backward();
    await settle(q.grad!);
    loss.dispose();
  });
  clearGrads(inputs);
  for (const t of [...inputs, mask]) t.dispose();
  return ms;
}

export async function siftLayerNorm(c: LayerNormConfig): Promise<number> {
  sift.manualSeed(0);
  const x = sift.randn([c.rows, c.dim], { requiresGrad: true });
  const ln = new LayerNorm(c.dim);
  const inputs = [x, ln.weight!, ln.bias!];
  const ms = await medianMs(async () => {
    clearGrads(inputs);
    const loss = sift.scope(() => ln.forward(x).sum());
    loss.backward();
    await settle(x.grad!);
    loss.dispose();
  });
  clearGrads(inputs);
  for (const t of inputs) t.dispose();
  return ms;
}

export async function tfjsAttention(tf: Tf, c: AttentionConfig): Promise<number> {
  const shape = [c.batch, c.heads, c.seq, c.dim];
  const q = tf.randomNormal(shape) as TfTensor;
  const k = tf.randomNormal(shape) as TfTensor;
  const v = tf.randomNormal(shape) as TfTensor;
  // Additive causal mask [seq, seq]: −1e9 above the diagonal, as @siftjs/nn's causalMask.
  const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([c.seq, c.seq]), -1, 0)), -1e9)) as TfTensor;
  const scale = 1 / Math.sqrt(c.dim);
  const grads = tf.grads((qq: TfTensor, kk: TfTensor, vv: TfTensor) =>
    tf.sum(tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(qq, kk, false, true), scale), mask)), vv)),
  );
  const ms = await medianMs(async () => {
    const g = grads([q, k, v]);
    await settleTf(tf, g[0]);
    tf.dispose(g);
  }, { minRuns: 2, minMs: 500 });
  tf.dispose([q, k, v, mask]);
  return ms;
}

export async function tfjsLayerNorm(tf: Tf, c: LayerNormConfig): Promise<number> {
  const x = tf.randomNormal([c.rows, c.dim]) as TfTensor;
  const weight = tf.ones([c.dim]) as TfTensor;
  const bias = tf.zeros([c.dim]) as TfTensor;
  const grads = tf.grads((xx: TfTensor, w: TfTensor, b: TfTensor) => {
    const { mean, variance } = tf.moments(xx, -1, true);
    return tf.sum(tf.add(tf.mul(tf.mul(tf.sub(xx, mean), tf.rsqrt(tf.add(variance, 1e-5))), w), b));
  });
  const ms = await medianMs(async () => {
    const g = grads([x, weight, bias]);
    await settleTf(tf, g[0]);
    tf.dispose(g);
  }, { minRuns: 2, minMs: 500 });
  tf.dispose([x, weight, bias]);
  return ms;
}
