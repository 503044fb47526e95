import '@siftjs/backend-cpu';
import * as T from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { acquire, expectClose, randomData } from './helpers.js';

const { backend: be, reason } = await acquire();

/**
 * A small embedding → layer norm → RMS norm → dropout → projection → cross-entropy step, its gradients, a SIFT
 * selection (top-k of a gradient) and a sparse AdamW step, all through the tensor API on one backend: the way
 * models call the kernels (views with offsets, saved statistics, hooks of autograd). Returns every result.
 */
async function step(backend: string): Promise<Record<string, Float32Array | Int32Array>> {
  await T.setBackend(backend);
  T.manualSeed(1234);
  const [V, D, B, L, C] = [11, 13, 3, 5, 4];
  const ids = Array.from(randomData(B * L, 3, 0, V), Math.floor);
  // Scopes are synchronous: build and run everything in one, keep what is read afterwards.
  const kept = T.scope(() => {
    const f32 = (data: ArrayLike<number>, shape: number[], requiresGrad = false) => {
      const t = T.tensor(Float32Array.from(data)).reshape(shape);
      t.requiresGrad = requiresGrad;
      return t;
    };
    const params = {
      table: f32(randomData(V * D, 4), [V, D], true),
      w: f32(randomData(D, 5, 0.5, 1.5), [D], true),
      b: f32(randomData(D, 6), [D], true),
      w2: f32(randomData(D, 7, 0.5, 1.5), [D], true),
      proj: f32(randomData(D * C, 8), [D, C], true),
    };
    const { table, w, b, w2, proj } = params;
    const idT = T.tensor(Int32Array.from(ids), { dtype: 'int32' }).reshape([B, L]);
    const targets = T.tensor(Int32Array.from(randomData(B * L, 9, 0, C), Math.floor), { dtype: 'int32' });
    const h = T.rmsNorm(T.layerNorm(T.embedding(table, idT), D, w, b), w2);
    const logits = T.dropout(h, 0.25).matmul(proj).reshape([B * L, C]);
    const loss = T.crossEntropy(logits, targets);
    loss.backward();
    const grads = Object.fromEntries(Object.entries(params).map(([name, t]) => [`grad ${name}`, t.grad!.clone()]));
    // SIFT: pick the largest components of the table's gradient, step their increment, write base + δ back.
    const k = 17;
    const { indices } = T.topkAbs(table.grad!, k);
    const base = T.gatherFlat(table.detach(), indices);
    const g = T.gatherFlat(table.grad!, indices);
    const [delta, m, v] = [T.zeros([k]), T.zeros([k]), T.zeros([k])];
    T.adamwIncrement({ param: table, indices, base, delta, grad: g, m, v }, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 });
    return { loss, ...grads, indices, table: table.detach(), randn: T.randn([9]), rand: T.rand([9]) };
  });
  const out: Record<string, Float32Array | Int32Array> = {};
  for (const [name, t] of Object.entries(kept)) {
    out[name] = (await t.toArray()) as Float32Array | Int32Array;
    t.dispose();
  }
  return out;
}

describe.skipIf(!be)(`webgpu through the tensor API (${reason})`, () => {
  it('a forward/backward step with embeddings, norms, dropout and cross-entropy, then a SIFT step, match the CPU backend', async () => {
    const cpu = await step('cpu');
    const gpu = await step('webgpu');
    await T.setBackend('cpu');
    expect(Object.keys(gpu)).toEqual(Object.keys(cpu));
    expect(Array.from(gpu.indices)).toEqual(Array.from(cpu.indices));
    // Dropout's mask and the uniforms come from the same Philox words on both backends.
    expect(Array.from(gpu.rand)).toEqual(Array.from(cpu.rand));
    for (const name of Object.keys(cpu)) {
      if (name === 'indices' || name === 'rand') continue;
      expectClose(gpu[name], cpu[name], 1e-4, 1e-5, name);
    }
  });
});
