import { AutogradError, type Tensor, keep, memoryStats, noGrad, ones, scope, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectNoLeaks } from '../support/memory.js';
import { read } from '../support/read.js';

const values = async (t: Tensor | null) => Array.from(await (t as Tensor).toArray());

/** Hooks run inside backward and reads may be asynchronous: a hook keeps a copy of what it saw, read afterwards. */
const snapshot = (t: Tensor) => keep(t.detach().clone());

describe.each(backendsUnderTest())('autograd on $name', (backend) => {
  beforeAll(() => backend.start());

  it('accumulates into leaf .grad across backward passes', async () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    for (let i = 0; i < 2; i++) scope(() => x.mul(x).sum().backward());
    expect(await values(x.grad)).toEqual([4, 8, 12]);
    x.dispose();
  });

  it('sums the gradient of a tensor used twice before its hook sees it (hook runs once)', async () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const seen: Tensor[] = [];
    x.registerHook((g) => void seen.push(snapshot(g)));
    scope(() => x.mul(3).add(x.mul(4)).sum().backward());
    expect(await read(() => seen)).toEqual([[7, 7]]);
    seen.forEach((t) => t.dispose());
    expect(await values(x.grad)).toEqual([7, 7]);
    x.dispose();
  });

  it('retainGrad keeps the gradient of a non-leaf', async () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const yGrad = await read(() => {
      const y = x.mul(2).retainGrad();
      y.square().sum().backward();
      return y.grad!;
    });
    expect(yGrad).toEqual([4, 8]);
    expect(await values(x.grad)).toEqual([8, 16]);
    x.dispose();
  });

  it('a hook that returns a tensor replaces the gradient; hooks run in registration order', async () => {
    const x = tensor([1, 1], { requiresGrad: true });
    const order: string[] = [];
    x.registerHook((g) => (order.push('double'), g.mul(2)));
    x.registerHook((g) => (order.push('plus one'), g.add(1)));
    scope(() => x.mul(3).sum().backward());
    expect(order).toEqual(['double', 'plus one']);
    expect(await values(x.grad)).toEqual([7, 7]);
    x.dispose();
  });

  it('a hook that returns nothing keeps the gradient', async () => {
    const x = tensor([2], { requiresGrad: true });
    x.registerHook(() => undefined);
    scope(() => x.square().sum().backward());
    expect(await values(x.grad)).toEqual([4]);
    x.dispose();
  });

  it('a hook that returns null drops the gradient: nothing accumulates, later hooks do not run, its memory is freed', async () => {
    const x = tensor(new Float32Array(1024).fill(1), { requiresGrad: true });
    const w = tensor([5], { requiresGrad: true });
    let dropped: Tensor | null = null;
    let later = false;
    x.registerHook((g) => ((dropped = g), null));
    x.registerHook(() => void (later = true));
    const base = memoryStats().bytesInUse;
    scope(() => x.mul(w).sum().backward());
    expect(x.grad).toBeNull();
    expect(later).toBe(false);
    expect(dropped!.isDisposed).toBe(true);
    expect(await values(w.grad)).toEqual([1024]);
    // Only w's 1-element grad remains beyond what existed before the forward.
    expect(memoryStats().bytesInUse - base).toBeLessThanOrEqual(64);
    x.dispose();
    w.dispose();
  });

  it('hooks on non-leaf tensors can rewrite the gradient flowing through them', async () => {
    const x = tensor([1, 2], { requiresGrad: true });
    scope(() => {
      const y = x.mul(2);
      y.registerHook((g) => g.mul(10));
      y.sum().backward();
    });
    expect(await values(x.grad)).toEqual([20, 20]);
    x.dispose();
  });

  it('post-accumulate hooks run after .grad is updated and see it', async () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const seen: Tensor[] = [];
    x.registerPostAccumulateGradHook((p) => void seen.push(snapshot(p.grad!)));
    scope(() => x.mul(2).sum().backward());
    scope(() => x.mul(2).sum().backward());
    expect(await read(() => seen)).toEqual([
      [2, 2],
      [4, 4],
    ]);
    seen.forEach((t) => t.dispose());
    x.dispose();
  });

  it('a removed hook no longer runs', async () => {
    const x = tensor([1], { requiresGrad: true });
    const h = x.registerHook((g) => g.mul(100));
    h.remove();
    scope(() => x.mul(2).sum().backward());
    expect(await values(x.grad)).toEqual([2]);
    x.dispose();
  });

  it('noGrad records nothing and detach cuts the graph', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    scope(() => {
      expect(noGrad(() => x.mul(2)).requiresGrad).toBe(false);
      const d = x.detach();
      expect(d.requiresGrad).toBe(false);
      expect(d.isLeaf).toBe(true);
      expect(x.mul(2).requiresGrad).toBe(true);
    });
    x.dispose();
  });

  it('backward a second time through a freed graph is a clear error', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    scope(() => {
      const y = x.exp().sum();
      y.backward();
      expect(() => y.backward()).toThrow(AutogradError);
      expect(() => y.backward()).toThrow(/second time/);
    });
    x.dispose();
  });

  it('backward through a non-scalar needs a gradient of the output shape', async () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    scope(() => {
      const y = x.mul(2);
      expect(() => y.backward()).toThrow(/shape \[3\]; pass a gradient/);
      y.backward(tensor([1, 0, 2]));
    });
    expect(await values(x.grad)).toEqual([2, 0, 4]);
    x.dispose();
  });

  it('backward on a tensor that does not require grad is an error', () => {
    scope(() => expect(() => ones([1]).backward()).toThrow(/does not require grad/));
  });

  it('saved tensors are freed once backward has run: forward + backward leaves only the grads', async () => {
    const x = tensor(new Float32Array(64).fill(0.5), { shape: [8, 8], requiresGrad: true });
    await expectNoLeaks(() => {
      scope(() => x.matmul(x).tanh().softmax().logSoftmax().sum().backward());
      x.grad!.dispose();
      x.grad = null;
    });
    x.dispose();
  });

  it('disposing the outputs of a forward without backward releases its graph', async () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    await expectNoLeaks(() => {
      const y = x.exp();
      const m = y.mul(y);
      const z = m.sum();
      for (const t of [y, m, z]) t.dispose();
    });
    x.dispose();
  });

  it('a hook that throws surfaces the error and leaves no gradients in flight', async () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = tensor([4], { requiresGrad: true });
    x.registerHook(() => {
      throw new Error('hook failed');
    });
    await expectNoLeaks(() => {
      expect(() => scope(() => x.mul(y).sum().backward())).toThrow('hook failed');
      y.grad?.dispose();
      y.grad = null;
    });
    x.dispose();
    y.dispose();
  });
});
